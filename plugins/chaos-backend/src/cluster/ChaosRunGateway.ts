import {
  CHAOS_GROUP,
  CHAOS_RUN,
  CHAOS_RUN_ID_LABEL,
  CHAOS_VERSION,
  ChaosRunSpecInput,
  ChaosRunStatus,
} from '@chaoscraft/backstage-plugin-chaos-common';
import {
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';

/** A ChaosRun as the backend reads it: only what it mirrors. */
export type ChaosRunObject = {
  metadata: { name: string; namespace: string; uid?: string; resourceVersion?: string; labels?: Record<string, string> };
  status?: Partial<ChaosRunStatus>;
};

const BASE = { group: CHAOS_GROUP, version: CHAOS_VERSION, plural: CHAOS_RUN.plural };

/** The ChaosRun resources of one cluster, seen through its API server. */
export class ChaosRunGateway {
  private readonly api: CustomObjectsApi;

  constructor(readonly kubeConfig: KubeConfig) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  async create(options: {
    name: string;
    namespace: string;
    runId: string;
    spec: ChaosRunSpecInput;
  }): Promise<ChaosRunObject> {
    return (await this.api.createNamespacedCustomObject({
      ...BASE,
      namespace: options.namespace,
      body: {
        apiVersion: `${CHAOS_GROUP}/${CHAOS_VERSION}`,
        kind: CHAOS_RUN.kind,
        metadata: {
          name: options.name,
          namespace: options.namespace,
          labels: { [CHAOS_RUN_ID_LABEL]: options.runId, 'app.kubernetes.io/managed-by': 'chaoscraft-backstage' },
        },
        spec: options.spec,
      },
    })) as ChaosRunObject;
  }

  /** Undefined when the ChaosRun no longer exists. */
  async get(namespace: string, name: string): Promise<ChaosRunObject | undefined> {
    try {
      return (await this.api.getNamespacedCustomObject({ ...BASE, namespace, name })) as ChaosRunObject;
    } catch (error) {
      if ((error as { code?: number }).code === 404) return undefined;
      throw error;
    }
  }

  /**
   * Sets spec.abort. With a uid, the patch carries it as a precondition: the API server refuses
   * (409) to patch another object that took the same name.
   */
  async abort(namespace: string, name: string, uid?: string): Promise<void> {
    await this.api.patchNamespacedCustomObject(
      { ...BASE, namespace, name, body: { ...(uid ? { metadata: { uid } } : {}), spec: { abort: true } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }

  /** Every ChaosRun that Backstage created, in all namespaces. */
  async listOwned(): Promise<{ items: ChaosRunObject[]; resourceVersion?: string }> {
    const list = (await this.api.listClusterCustomObject({
      ...BASE,
      labelSelector: CHAOS_RUN_ID_LABEL,
    })) as { items: ChaosRunObject[]; metadata?: { resourceVersion?: string } };
    return { items: list.items, resourceVersion: list.metadata?.resourceVersion };
  }
}

export const chaosRunWatchPath = `/apis/${CHAOS_GROUP}/${CHAOS_VERSION}/${CHAOS_RUN.plural}`;
