import {
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { isNotFound } from '../kube/apiErrors';
import { CHAOS_RUN_COORDINATES, type ChaosRunResource } from './resource';

/** A page of ChaosRuns and the resourceVersion to watch from. */
export interface ChaosRunList {
  items: ChaosRunResource[];
  metadata?: { resourceVersion?: string };
}

/**
 * Reads and writes ChaosRuns through the custom objects API: the one client of the resource, for
 * the controller, the node daemons and the backend. Writes that decide something carry the
 * resourceVersion they were computed from, so a stale decision fails with 409 instead of winning.
 */
export class ChaosRunClient {
  private readonly api: CustomObjectsApi;

  constructor(kc: KubeConfig) {
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  async get(namespace: string, name: string): Promise<ChaosRunResource> {
    return (await this.api.getNamespacedCustomObject({
      ...CHAOS_RUN_COORDINATES,
      namespace,
      name,
    })) as ChaosRunResource;
  }

  /** The run, or undefined when it does not exist (404). */
  async find(
    namespace: string,
    name: string,
  ): Promise<ChaosRunResource | undefined> {
    try {
      return await this.get(namespace, name);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async list(
    options: { namespace?: string; labelSelector?: string } = {},
  ): Promise<ChaosRunList> {
    const { namespace, labelSelector } = options;
    const result = namespace
      ? await this.api.listNamespacedCustomObject({
          ...CHAOS_RUN_COORDINATES,
          namespace,
          labelSelector,
        })
      : await this.api.listClusterCustomObject({
          ...CHAOS_RUN_COORDINATES,
          labelSelector,
        });
    return result as ChaosRunList;
  }

  async create(run: ChaosRunResource): Promise<ChaosRunResource> {
    return (await this.api.createNamespacedCustomObject({
      ...CHAOS_RUN_COORDINATES,
      namespace: run.metadata.namespace!,
      body: run,
    })) as ChaosRunResource;
  }

  /** A JSON merge patch of the object (not its status), e.g. `{spec: {abort: true}}`. */
  async mergePatch(
    namespace: string,
    name: string,
    patch: object,
  ): Promise<ChaosRunResource> {
    return (await this.api.patchNamespacedCustomObject(
      { ...CHAOS_RUN_COORDINATES, namespace, name, body: patch },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )) as ChaosRunResource;
  }

  /** A JSON patch of the object (not its status); its `test` ops are the preconditions. */
  async jsonPatch(
    run: Pick<ChaosRunResource, 'metadata'>,
    operations: object[],
  ): Promise<ChaosRunResource> {
    return (await this.api.patchNamespacedCustomObject(
      {
        ...CHAOS_RUN_COORDINATES,
        namespace: run.metadata.namespace!,
        name: run.metadata.name!,
        body: operations,
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    )) as ChaosRunResource;
  }

  /** Sets the finalizer list, on the condition that the run is still at its resourceVersion. */
  async setFinalizers(
    run: ChaosRunResource,
    finalizers: string[],
  ): Promise<ChaosRunResource> {
    return this.mergePatch(run.metadata.namespace!, run.metadata.name!, {
      metadata: { resourceVersion: run.metadata.resourceVersion, finalizers },
    });
  }

  /** Replaces the status subresource; 409 when `run.metadata.resourceVersion` is stale. */
  async replaceStatus(run: ChaosRunResource): Promise<ChaosRunResource> {
    return (await this.api.replaceNamespacedCustomObjectStatus({
      ...CHAOS_RUN_COORDINATES,
      namespace: run.metadata.namespace!,
      name: run.metadata.name!,
      body: run,
    })) as ChaosRunResource;
  }

  /** A JSON patch of the status subresource (its `test` ops are the preconditions). */
  async jsonPatchStatus(
    run: Pick<ChaosRunResource, 'metadata'>,
    operations: object[],
  ): Promise<ChaosRunResource> {
    return (await this.api.patchNamespacedCustomObjectStatus(
      {
        ...CHAOS_RUN_COORDINATES,
        namespace: run.metadata.namespace!,
        name: run.metadata.name!,
        body: operations,
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    )) as ChaosRunResource;
  }
}
