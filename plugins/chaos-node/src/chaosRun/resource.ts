import type { V1ObjectMeta } from '@kubernetes/client-node';
import {
  CHAOS_GROUP,
  CHAOS_RUN,
  CHAOS_VERSION,
  type ChaosRunStatus,
} from '@chaoscraft/backstage-plugin-chaos-common';

/** Held on every live ChaosRun so that deleting it rolls back before it disappears. */
export const CHAOS_FINALIZER = 'chaoscraft.io/finalizer';

/** Group, version and plural of ChaosRuns, as the custom objects API takes them. */
export const CHAOS_RUN_COORDINATES = {
  group: CHAOS_GROUP,
  version: CHAOS_VERSION,
  plural: CHAOS_RUN.plural,
} as const;

/**
 * A ChaosRun as it comes from the API server. The spec stays `unknown` until its reader parses it
 * with the one model schema (chaosRunSpecSchema), which also applies its defaults.
 */
export interface ChaosRunResource {
  apiVersion?: string;
  kind?: string;
  metadata: V1ObjectMeta;
  spec?: unknown;
  status?: Partial<ChaosRunStatus>;
}

/** API path for list and watch, across namespaces or within one. */
export function chaosRunsPath(namespace?: string): string {
  return namespace
    ? `/apis/${CHAOS_GROUP}/${CHAOS_VERSION}/namespaces/${namespace}/${CHAOS_RUN.plural}`
    : `/apis/${CHAOS_GROUP}/${CHAOS_VERSION}/${CHAOS_RUN.plural}`;
}

/** `namespace/name`: the key of a run in queues, caches and logs. */
export function runKey(run: { metadata?: V1ObjectMeta }): string {
  return `${run.metadata?.namespace}/${run.metadata?.name}`;
}

export function splitRunKey(key: string): { namespace: string; name: string } {
  const [namespace, name] = key.split('/');
  return { namespace, name };
}
