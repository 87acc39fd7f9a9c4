import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import { NotFoundError, ServiceUnavailableError } from '@backstage/errors';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import {
  CHAOS_CLUSTER_ANNOTATION,
  type ChaosRunSpecInput,
  type Experiment,
  type Run,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { randomUUID } from 'node:crypto';
import type { ChaosCluster, ClusterRegistry } from '../cluster/ClusterRegistry';
import type { RunStore } from '../database/RunStore';
import type { RunMirror } from './RunMirror';

/** The ChaosRun's name: the experiment's, made unique by the run id, within 63 characters. */
export function chaosRunName(experimentName: string, runId: string): string {
  return `${experimentName.slice(0, 54).replace(/-+$/, '')}-${runId.slice(0, 8)}`;
}

/** What the cluster is asked to execute: the experiment as it is now, frozen into the run. */
export function chaosRunSpec(experiment: Experiment, dryRun: boolean): ChaosRunSpecInput {
  return {
    entityRef: experiment.entityRef,
    description: experiment.description,
    target: experiment.target,
    faults: experiment.faults,
    duration: experiment.duration,
    safety: experiment.safety,
    hypothesis: experiment.hypothesis,
    experiment: { name: experiment.name, id: experiment.id },
    dryRun,
  };
}

/**
 * Starts a run: records it first, so that nothing the user asked for is lost, then creates
 * the ChaosRun. When the cluster refuses, the record ends as Failed with the cluster's reason.
 */
export async function launchRun(options: {
  experiment: Experiment;
  cluster: ChaosCluster;
  dryRun: boolean;
  createdBy: string;
  runs: RunStore;
  mirror: RunMirror;
}): Promise<Run> {
  const { experiment, cluster, dryRun, createdBy, runs, mirror } = options;
  const id = randomUUID();
  const spec = chaosRunSpec(experiment, dryRun);
  const run = await runs.create({
    id,
    experimentId: experiment.id,
    experimentName: experiment.name,
    entityRef: experiment.entityRef,
    cluster: cluster.name,
    namespace: experiment.target.namespace,
    resourceName: chaosRunName(experiment.name, id),
    dryRun,
    createdBy,
    spec,
  });
  try {
    await mirror.gateway(cluster.name).create({
      name: run.resourceName,
      namespace: run.namespace,
      runId: id,
      spec,
    });
  } catch (error) {
    const body = (error as { body?: unknown }).body;
    const detail = typeof body === 'string' ? body : (body as { message?: string })?.message ?? String(error);
    await runs.fail(id, 'ClusterError', `Could not create the ChaosRun: ${detail}`);
    throw new ServiceUnavailableError(
      `Could not create the ChaosRun in cluster ${cluster.name}: ${detail}`,
    );
  }
  return run;
}

/**
 * Starts a run of an experiment in the cluster its entity names (`chaoscraft.io/cluster`, else
 * the first configured): the path of the Run button and of schedules alike. The entity is read
 * with the caller's credentials, so the catalog's own permissions apply.
 */
export async function launchExperimentRun(options: {
  experiment: Experiment;
  dryRun: boolean;
  createdBy: string;
  credentials: BackstageCredentials;
  catalog: CatalogService;
  clusters: ClusterRegistry;
  runs: RunStore;
  mirror: RunMirror;
}): Promise<Run> {
  const { experiment, credentials, catalog, clusters } = options;
  const entity = await catalog.getEntityByRef(experiment.entityRef, { credentials });
  if (!entity) throw new NotFoundError(`Entity ${experiment.entityRef} is not in the catalog`);
  return launchRun({
    ...options,
    cluster: clusters.resolve(entity.metadata.annotations?.[CHAOS_CLUSTER_ANNOTATION]),
  });
}
