import type {
  ExperimentSource,
  ExperimentSpec,
  ManagedBy,
  SourceProblem,
} from '@chaoscraft/backstage-plugin-chaos-common';

/** One experiment kept as code, valid and bound to its entity. */
export type ManagedExperiment = { spec: ExperimentSpec; managedBy: ManagedBy };

/** What one read of a source gave: the experiments it defines, and what was wrong with the rest. */
export type SourceReading = {
  /** `location:<entityRef>` or `cluster:<cluster>:<entityRef>`. */
  key: string;
  kind: ManagedBy['kind'];
  entityRef: string;
  location: string;
  /** Undefined when the source could not be read: what it defined stays, the problems say why. */
  experiments?: ManagedExperiment[];
  problems: SourceProblem[];
};

/** The key of an entity's experiments-location source. */
export function locationSourceKey(entityRef: string): string {
  return `location:${entityRef}`;
}

/** The key of the ChaosExperiments of one cluster that name one entity. */
export function clusterSourceKey(cluster: string, entityRef: string): string {
  return `cluster:${cluster}:${entityRef}`;
}

/**
 * Experiments kept as code, in the same table as the ones made through the API: one list, one
 * run path, one scheduler with its claim per occurrence, and one unique name per entity.
 */
export interface ExperimentSourceStore {
  /**
   * Makes the source's experiments exactly those of the reading, in one transaction: new ones are
   * added (a schedule starts from now), changed ones updated (a changed schedule starts from
   * now), vanished ones deleted (their runs stay). A name another source or the API already uses
   * for the entity is not imported and becomes a `conflict` problem. Returns the source as
   * recorded.
   */
  sync(reading: SourceReading): Promise<ExperimentSource>;
  /**
   * Deletes the sources whose key starts with `prefix` but is not in `keep`, and their
   * experiments: an entity that lost its annotation, a cluster whose ChaosExperiments for an
   * entity are all gone. Returns how many sources went.
   */
  prune(prefix: string, keep: Iterable<string>): Promise<number>;
  /** The entity's sources, as last read. */
  list(entityRef: string): Promise<ExperimentSource[]>;
}
