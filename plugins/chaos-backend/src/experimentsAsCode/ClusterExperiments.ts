import type { AuthService, LoggerService } from '@backstage/backend-plugin-api';
import {
  type Entity,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import {
  CHAOS_CLUSTER_ANNOTATION,
  CHAOS_EXPERIMENT,
  CHAOS_GROUP,
  CHAOS_VERSION,
  KUBERNETES_NAMESPACE_ANNOTATION,
  type ExperimentSource,
  type SourceProblem,
  readChaosExperimentDocument,
} from '@chaoscraft/backstage-plugin-chaos-common';
import {
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { Clock, systemClock } from '../clock';
import type { ChaosCluster, ClusterRegistry } from '../cluster/ClusterRegistry';
import {
  type ExperimentSourceStore,
  type ManagedExperiment,
  clusterSourceKey,
} from '../database/ExperimentSourceStore';
import type { ConfiguredCeilings } from '../service/ceilingsConfig';
import { bindExperiment } from '../service/ExperimentBinding';

/** The Backstage scheduler task that reads the ChaosExperiments of every cluster. */
export const CLUSTER_EXPERIMENTS_TASK_ID = 'chaos-cluster-experiments';

const COORDINATES = {
  group: CHAOS_GROUP,
  version: CHAOS_VERSION,
  plural: CHAOS_EXPERIMENT.plural,
};

/** The condition the backend writes on each ChaosExperiment: is it in effect in Backstage? */
export const ACCEPTED_CONDITION = 'Accepted';

type Condition = {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastTransitionTime?: string;
};

/** A ChaosExperiment as listed from a cluster. */
export type ChaosExperimentObject = {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace: string;
    generation?: number;
    uid?: string;
  };
  spec?: { entityRef?: string } & Record<string, unknown>;
  status?: {
    observedGeneration?: number;
    entityRef?: string;
    conditions?: Condition[];
  };
};

type Verdict = {
  accepted: boolean;
  reason: string;
  message: string;
  entityRef?: string;
};

/**
 * ChaosExperiment resources applied to a cluster (kubectl, GitOps) become experiments of the
 * entity their `spec.entityRef` names, kept in the database as managed experiments, so that they
 * show on the entity's Chaos tab and their `schedule` runs through the one scheduler
 * (ScheduledRuns, which claims each occurrence in the database). The backend, not the agent,
 * does this: see docs/ARCHITECTURE.md, "Experiments as code". What Backstage made of each
 * object is written back to it as the `Accepted` condition, so that `kubectl get` shows a
 * conflict or an invalid field too.
 */
export class ClusterExperiments {
  private readonly clock: Clock;
  private readonly statusWriteRefused = new Set<string>();

  constructor(
    private readonly deps: {
      catalog: CatalogService;
      auth: AuthService;
      clusters: ClusterRegistry;
      sources: ExperimentSourceStore;
      ceilings: ConfiguredCeilings;
      logger: LoggerService;
      clock?: Clock;
    },
  ) {
    this.clock = deps.clock ?? systemClock;
  }

  /** Reads every configured cluster; a cluster that cannot be listed keeps what it defined. */
  async refreshAll(): Promise<void> {
    for (const cluster of this.deps.clusters.clusters) {
      try {
        await this.refreshCluster(cluster);
      } catch (error) {
        this.deps.logger.warn(
          `Could not read the ChaosExperiments of cluster ${cluster.name}: ${error}`,
        );
      }
    }
  }

  async refreshCluster(cluster: ChaosCluster): Promise<ExperimentSource[]> {
    const api = this.deps.clusters
      .kubeConfig(cluster)
      .makeApiClient(CustomObjectsApi);
    const list = (await api.listClusterCustomObject(COORDINATES)) as {
      items: ChaosExperimentObject[];
    };
    const objects = [...list.items].sort((a, b) =>
      sourceOf(cluster, a).localeCompare(sourceOf(cluster, b)),
    );
    const verdicts = new Map<ChaosExperimentObject, Verdict>();
    const byEntity = new Map<string, ChaosExperimentObject[]>();
    for (const object of objects) {
      const named = object.spec?.entityRef;
      if (!named) {
        verdicts.set(object, {
          accepted: false,
          reason: 'NoEntity',
          message:
            'spec.entityRef: required, to say which catalog entity this experiment belongs to',
        });
        continue;
      }
      let entityRef: string;
      try {
        entityRef = stringifyEntityRef(parseEntityRef(named));
      } catch (error) {
        verdicts.set(object, {
          accepted: false,
          reason: 'Invalid',
          message: `spec.entityRef: ${(error as Error).message}`,
        });
        continue;
      }
      byEntity.set(entityRef, [...(byEntity.get(entityRef) ?? []), object]);
    }

    const credentials = await this.deps.auth.getOwnServiceCredentials();
    const keys: string[] = [];
    const results: ExperimentSource[] = [];
    for (const [entityRef, group] of byEntity) {
      const entity = await this.deps.catalog.getEntityByRef(entityRef, {
        credentials,
      });
      if (!entity) {
        for (const object of group) {
          verdicts.set(object, {
            accepted: false,
            reason: 'EntityNotFound',
            message: `spec.entityRef: ${entityRef} is not in the catalog`,
            entityRef,
          });
        }
        continue;
      }
      const key = clusterSourceKey(cluster.name, entityRef);
      keys.push(key);
      const experiments: ManagedExperiment[] = [];
      const problems: SourceProblem[] = [];
      for (const object of group) {
        const source = sourceOf(cluster, object);
        const reading = readChaosExperimentDocument(object, entityRef);
        if (reading.issues) {
          problems.push(
            ...reading.issues.map(i => ({
              kind: 'invalid' as const,
              source,
              name: object.metadata.name,
              field: i.field,
              message: i.message,
            })),
          );
          continue;
        }
        const misplaced = placementProblem(object, entity, cluster);
        if (misplaced) {
          problems.push({
            kind: 'binding',
            source,
            name: reading.name,
            ...misplaced,
          });
          continue;
        }
        try {
          bindExperiment(reading.spec, entity, {
            clusters: this.deps.clusters,
            ceilings: this.deps.ceilings,
          });
        } catch (error) {
          problems.push({
            kind: 'binding',
            source,
            name: reading.name,
            message: (error as Error).message,
          });
          continue;
        }
        experiments.push({
          spec: reading.spec,
          managedBy: { kind: 'cluster', source },
        });
      }
      const recorded = await this.deps.sources.sync({
        key,
        kind: 'cluster',
        entityRef,
        location: cluster.name,
        experiments,
        problems,
      });
      results.push(recorded);
      for (const object of group) {
        const own = recorded.problems.filter(
          p => p.source === sourceOf(cluster, object),
        );
        verdicts.set(
          object,
          own.length === 0
            ? {
                accepted: true,
                reason: 'InEffect',
                message: `In effect as experiment '${object.metadata.name}' of ${entityRef}`,
                entityRef,
              }
            : {
                accepted: false,
                reason: reasonOf(own[0]),
                message: own
                  .map(p => (p.field ? `${p.field}: ${p.message}` : p.message))
                  .join('; '),
                entityRef,
              },
        );
      }
    }
    await this.deps.sources.prune(`cluster:${cluster.name}:`, keys);
    await Promise.all(
      objects.map(object =>
        this.writeStatus(api, cluster, object, verdicts.get(object)!),
      ),
    );
    return results;
  }

  /** Writes the verdict as the object's Accepted condition, when it changed. */
  private async writeStatus(
    api: CustomObjectsApi,
    cluster: ChaosCluster,
    object: ChaosExperimentObject,
    verdict: Verdict,
  ): Promise<void> {
    const status = verdict.accepted ? 'True' : 'False';
    const previous = object.status?.conditions?.find(
      c => c.type === ACCEPTED_CONDITION,
    );
    const generation = object.metadata.generation;
    if (
      previous?.status === status &&
      previous.reason === verdict.reason &&
      previous.message === verdict.message &&
      object.status?.observedGeneration === generation &&
      object.status?.entityRef === verdict.entityRef
    ) {
      return;
    }
    const condition: Condition = {
      type: ACCEPTED_CONDITION,
      status,
      reason: verdict.reason,
      message: verdict.message.slice(0, 32_768),
      lastTransitionTime:
        previous?.status === status && previous.lastTransitionTime
          ? previous.lastTransitionTime
          : this.clock.now().toISOString(),
    };
    const source = sourceOf(cluster, object);
    try {
      await api.patchNamespacedCustomObjectStatus(
        {
          ...COORDINATES,
          namespace: object.metadata.namespace,
          name: object.metadata.name,
          body: {
            // The uid as a precondition: never write onto an object that replaced this one.
            metadata: { uid: object.metadata.uid },
            status: {
              observedGeneration: generation,
              entityRef: verdict.entityRef ?? null,
              conditions: [
                ...(object.status?.conditions ?? []).filter(
                  c => c.type !== ACCEPTED_CONDITION,
                ),
                condition,
              ],
            },
          },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      this.statusWriteRefused.delete(source);
    } catch (error) {
      // Visibility on the object is a courtesy: the Chaos tab and the API show the same. Say once
      // per object why it cannot be written (RBAC without chaosexperiments/status, a deletion).
      if (!this.statusWriteRefused.has(source)) {
        this.statusWriteRefused.add(source);
        this.deps.logger.warn(
          `Could not write the status of ChaosExperiment ${source}: ${error}`,
        );
      }
    }
  }
}

function sourceOf(
  cluster: ChaosCluster,
  object: ChaosExperimentObject,
): string {
  return `${cluster.name}/${object.metadata.namespace}/${object.metadata.name}`;
}

function reasonOf(problem: SourceProblem): string {
  return {
    read: 'Unreadable',
    parse: 'Invalid',
    invalid: 'Invalid',
    conflict: 'Conflict',
    binding: 'OutsideEntity',
  }[problem.kind];
}

/**
 * A ChaosExperiment acts where it lives: in its own namespace, in the cluster it was applied to,
 * and both must be its entity's. Whoever may write ChaosExperiments in a namespace cannot aim
 * one at another entity's pods elsewhere.
 */
function placementProblem(
  object: ChaosExperimentObject,
  entity: Entity,
  cluster: ChaosCluster,
): { field: string; message: string } | undefined {
  const annotations = entity.metadata.annotations ?? {};
  const entityCluster = annotations[CHAOS_CLUSTER_ANNOTATION];
  if (entityCluster && entityCluster !== cluster.name) {
    return {
      field: 'metadata',
      message: `applied to cluster ${cluster.name}, but ${stringifyEntityRef(
        entity,
      )} runs in cluster ${entityCluster} (${CHAOS_CLUSTER_ANNOTATION})`,
    };
  }
  const entityNamespace = annotations[KUBERNETES_NAMESPACE_ANNOTATION]?.trim();
  if (entityNamespace && object.metadata.namespace !== entityNamespace) {
    return {
      field: 'metadata.namespace',
      message: `a ChaosExperiment must live in its entity's namespace ${entityNamespace} (${KUBERNETES_NAMESPACE_ANNOTATION}), not ${object.metadata.namespace}`,
    };
  }
  return undefined;
}
