import type { Entity } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import {
  ceilingIssues,
  effectiveCeilings,
  readEntityTarget,
  targetIssues,
  type ChaosCeilings,
  type ChaosExperimentSpec,
  type EntityTarget,
} from '@chaoscraft/backstage-plugin-chaos-common';
import type { ChaosCluster, ClusterRegistry } from '../cluster/ClusterRegistry';
import type { ConfiguredCeilings } from './ceilingsConfig';

/** Where an experiment of this entity may run, and under which ceilings. */
export type Binding = {
  cluster: ChaosCluster;
  target: EntityTarget;
  ceilings: ChaosCeilings;
};

/**
 * Binds an experiment to its entity, or throws InputError naming the annotation or field at
 * fault: the entity must say where its pods are (namespace, selector, cluster annotations); the
 * experiment must stay inside them (same namespace, a selector at least as narrow) and under the
 * ceilings (the operator's, lowered by the cluster's and the entity's). Checked on create,
 * update and every run, so an entity whose annotations changed cannot run a stale target.
 */
export function bindExperiment(
  spec: Pick<
    ChaosExperimentSpec,
    'target' | 'faults' | 'duration' | 'safety' | 'hypothesis'
  >,
  entity: Entity,
  deps: { clusters: ClusterRegistry; ceilings: ConfiguredCeilings },
): Binding {
  const read = readEntityTarget(entity.metadata.annotations ?? {});
  if (read.problem)
    throw new InputError(`${read.problem.annotation}: ${read.problem.message}`);
  const target = read.target;
  const cluster = deps.clusters.resolve(target.cluster);
  const ceilings = effectiveCeilings(deps.ceilings.ceilings, {
    clusterMaxBlastRadiusPercent:
      deps.ceilings.clusterMaxBlastRadiusPercent.get(cluster.name),
    entityMaxBlastRadiusPercent: target.maxBlastRadiusPercent,
  });
  const issues = [
    ...targetIssues(spec.target, target),
    ...ceilingIssues(spec, ceilings, deps.clusters.apiServerHosts(cluster)),
  ];
  if (issues.length) {
    throw new InputError(
      `Invalid experiment: ${issues
        .map(i => `${i.field}: ${i.message}`)
        .join('; ')}`,
    );
  }
  return { cluster, target, ceilings };
}
