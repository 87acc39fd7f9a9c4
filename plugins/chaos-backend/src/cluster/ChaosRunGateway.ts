import {
  CHAOS_API_VERSION,
  CHAOS_RUN,
  CHAOS_RUN_ID_LABEL,
  ChaosRunSpecInput,
} from '@chaoscraft/backstage-plugin-chaos-common';
import {
  ChaosRunClient,
  type ChaosRunResource,
} from '@chaoscraft/backstage-plugin-chaos-node';
import type { KubeConfig } from '@kubernetes/client-node';

/** A ChaosRun as the backend reads it (the kit's resource). */
export type ChaosRunObject = ChaosRunResource;

/**
 * What the backend does with the ChaosRuns of one cluster, on the shared ChaosRun client: it
 * creates runs labelled with their Backstage run id, reads them, aborts them, and lists its own.
 */
export class ChaosRunGateway {
  private readonly runs: ChaosRunClient;

  constructor(readonly kubeConfig: KubeConfig) {
    this.runs = new ChaosRunClient(kubeConfig);
  }

  async create(options: {
    name: string;
    namespace: string;
    runId: string;
    spec: ChaosRunSpecInput;
    /** E.g. the trace context of the request that started the run. */
    annotations?: Record<string, string>;
  }): Promise<ChaosRunObject> {
    return this.runs.create({
      apiVersion: CHAOS_API_VERSION,
      kind: CHAOS_RUN.kind,
      metadata: {
        name: options.name,
        namespace: options.namespace,
        labels: {
          [CHAOS_RUN_ID_LABEL]: options.runId,
          'app.kubernetes.io/managed-by': 'chaoscraft-backstage',
        },
        ...(options.annotations && Object.keys(options.annotations).length > 0
          ? { annotations: options.annotations }
          : {}),
      },
      spec: options.spec,
    });
  }

  /** Undefined when the ChaosRun no longer exists. */
  get(namespace: string, name: string): Promise<ChaosRunObject | undefined> {
    return this.runs.find(namespace, name);
  }

  /**
   * Sets spec.abort. With a uid, the patch carries it as a precondition: the API server refuses
   * (409) to patch another object that took the same name.
   */
  async abort(namespace: string, name: string, uid?: string): Promise<void> {
    await this.runs.mergePatch(namespace, name, {
      ...(uid ? { metadata: { uid } } : {}),
      spec: { abort: true },
    });
  }

  /** Every ChaosRun that Backstage created, in all namespaces. */
  async listOwned(): Promise<{
    items: ChaosRunObject[];
    resourceVersion?: string;
  }> {
    const list = await this.runs.list({ labelSelector: CHAOS_RUN_ID_LABEL });
    return {
      items: list.items,
      resourceVersion: list.metadata?.resourceVersion,
    };
  }
}
