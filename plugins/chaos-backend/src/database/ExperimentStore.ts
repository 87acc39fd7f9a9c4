import type {
  Experiment,
  ExperimentSpec,
  Page,
} from '@chaoscraft/backstage-plugin-chaos-common';

export type ListExperimentsOptions = {
  entityRef?: string;
  /** Only these entities (what the caller may read); undefined: no restriction. */
  entityRefs?: string[];
  offset: number;
  limit: number;
};

/** An experiment with a schedule, and how far the scheduler has got with it. */
export type ScheduledExperiment = {
  experiment: Experiment & { schedule: string };
  /** Occurrences at or before this time are done (run, skipped or missed). */
  checkedAt: Date;
};

/** Durable storage of experiments. */
export interface ExperimentStore {
  list(options: ListExperimentsOptions): Promise<Page<Experiment>>;
  /** The distinct entities that have experiments. */
  listEntityRefs(): Promise<string[]>;
  /** Returns undefined when there is no such experiment. */
  get(id: string): Promise<Experiment | undefined>;
  /** Throws ConflictError when the entity already has an experiment of that name. */
  create(spec: ExperimentSpec, createdBy: string): Promise<Experiment>;
  /** Returns undefined when there is no such experiment; ConflictError on a name clash. */
  update(id: string, spec: ExperimentSpec): Promise<Experiment | undefined>;
  /** Returns false when there was no such experiment. */
  delete(id: string): Promise<boolean>;
  /** Every experiment with a schedule. */
  listScheduled(): Promise<ScheduledExperiment[]>;
  /**
   * Moves an experiment's schedule checkpoint from `checkedAt` to `occurrence`; false when it
   * had already moved (another backend instance claimed the occurrence, or the schedule changed).
   */
  claimOccurrence(
    id: string,
    checkedAt: Date,
    occurrence: Date,
  ): Promise<boolean>;
}
