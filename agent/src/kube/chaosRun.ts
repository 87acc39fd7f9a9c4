import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  PolicyV1Api,
  CoordinationV1Api,
  V1ObjectMeta,
  setHeaderOptions,
} from '@kubernetes/client-node';
import {
  CHAOS_GROUP,
  CHAOS_RUN,
  CHAOS_VERSION,
  ChaosRunStatus,
} from '@chaoscraft/backstage-plugin-chaos-common';

/** Held on every live ChaosRun so that deleting it rolls back before it disappears. */
export const CHAOS_FINALIZER = 'chaoscraft.io/finalizer';

/**
 * A ChaosRun as it comes from the API server. The spec stays `unknown` until the reconciler
 * parses it with the one model schema (chaosRunSpecSchema), which also applies its defaults.
 */
export interface ChaosRunResource {
  apiVersion?: string;
  kind?: string;
  metadata: V1ObjectMeta;
  spec?: unknown;
  status?: Partial<ChaosRunStatus>;
}

export function runKey(run: { metadata?: V1ObjectMeta }): string {
  return `${run.metadata?.namespace}/${run.metadata?.name}`;
}

export function splitRunKey(key: string): { namespace: string; name: string } {
  const [namespace, name] = key.split('/');
  return { namespace, name };
}

/** The typed API clients the controller uses, made once from one KubeConfig. */
export interface KubeClients {
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly policy: PolicyV1Api;
  readonly coordination: CoordinationV1Api;
  readonly customObjects: CustomObjectsApi;
}

export function makeKubeClients(kc: KubeConfig): KubeClients {
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    policy: kc.makeApiClient(PolicyV1Api),
    coordination: kc.makeApiClient(CoordinationV1Api),
    customObjects: kc.makeApiClient(CustomObjectsApi),
  };
}

const RUN_COORDINATES = { group: CHAOS_GROUP, version: CHAOS_VERSION, plural: CHAOS_RUN.plural };

/** Reads and writes ChaosRuns; every write is conditional on the resourceVersion it was given. */
export class ChaosRunClient {
  constructor(private readonly clients: KubeClients) {}

  /** API path for list and watch, across namespaces or within one. */
  static listPath(namespace?: string): string {
    return namespace
      ? `/apis/${CHAOS_GROUP}/${CHAOS_VERSION}/namespaces/${namespace}/${CHAOS_RUN.plural}`
      : `/apis/${CHAOS_GROUP}/${CHAOS_VERSION}/${CHAOS_RUN.plural}`;
  }

  async get(namespace: string, name: string): Promise<ChaosRunResource> {
    return (await this.clients.customObjects.getNamespacedCustomObject({
      ...RUN_COORDINATES,
      namespace,
      name,
    })) as ChaosRunResource;
  }

  async list(namespace?: string): Promise<{ items: ChaosRunResource[]; metadata?: { resourceVersion?: string } }> {
    const result = namespace
      ? await this.clients.customObjects.listNamespacedCustomObject({ ...RUN_COORDINATES, namespace })
      : await this.clients.customObjects.listClusterCustomObject(RUN_COORDINATES);
    return result as { items: ChaosRunResource[]; metadata?: { resourceVersion?: string } };
  }

  /**
   * Sets the finalizer list. The resourceVersion in the patch makes it a precondition, so a
   * decision taken on a stale informer copy fails with 409 instead of winning.
   */
  async setFinalizers(run: ChaosRunResource, finalizers: string[]): Promise<ChaosRunResource> {
    return (await this.clients.customObjects.patchNamespacedCustomObject(
      {
        ...RUN_COORDINATES,
        namespace: run.metadata.namespace!,
        name: run.metadata.name!,
        body: { metadata: { resourceVersion: run.metadata.resourceVersion, finalizers } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as ChaosRunResource;
  }

  /** Replaces the status subresource; 409 when `run.metadata.resourceVersion` is stale. */
  async replaceStatus(run: ChaosRunResource): Promise<ChaosRunResource> {
    return (await this.clients.customObjects.replaceNamespacedCustomObjectStatus({
      ...RUN_COORDINATES,
      namespace: run.metadata.namespace!,
      name: run.metadata.name!,
      body: run,
    })) as ChaosRunResource;
  }
}
