import type {
  ChaosRunStatus,
  Page,
  Run,
  RunDetail,
} from '@chaoscraft/backstage-plugin-chaos-common';
import type { RunCursor } from './runCursor';

export type NewRun = Pick<
  Run,
  | 'id'
  | 'experimentId'
  | 'experimentName'
  | 'entityRef'
  | 'cluster'
  | 'namespace'
  | 'resourceName'
  | 'dryRun'
  | 'createdBy'
> & { spec: unknown };

/** Which ChaosRun a status came from: the mirror applies it only to the run that object is. */
export type ChaosRunRef = {
  id: string;
  cluster: string;
  namespace: string;
  resourceName: string;
  /** metadata.uid of the object; a run bound to another uid ignores it. */
  uid?: string;
};

/** Live runs the store lets exist at once; the create that would pass one is a ConflictError. */
export type LiveRunLimits = {
  /** Live runs of one entity, all its experiments together. */
  maxPerEntity: number;
};

export type ListOptions = {
  entityRef?: string;
  /** Only these entities (what the caller may read); undefined: no restriction. */
  entityRefs?: string[];
  offset: number;
  limit: number;
  /** Start right after this run (in the list's order); offset is then 0. */
  after?: RunCursor;
};

/** The durable history of runs, mirrored from ChaosRun status. */
export interface RunStore {
  /**
   * Records a new Pending run. With limits, throws ConflictError when its experiment already has
   * a live run, or its entity has as many as the limit; the check and the insert are atomic.
   */
  create(run: NewRun, limits?: LiveRunLimits): Promise<Run>;
  get(id: string): Promise<RunDetail | undefined>;
  /** The run's record without its targets and timeline: what a change notice needs. */
  summary(id: string): Promise<Run | undefined>;
  list(options: ListOptions): Promise<Page<Run>>;
  /** The distinct entities that have runs. */
  listEntityRefs(): Promise<string[]>;
  /** Runs whose phase is not terminal: the ones to resync and watch. */
  listLive(): Promise<Run[]>;
  /** metadata.uid of the run's ChaosRun, once known. */
  resourceUid(id: string): Promise<string | undefined>;
  /**
   * Mirrors a ChaosRun status onto the run that object is: id, cluster, namespace and name must
   * all match, and the uid when the run is bound to one (the first status binds it). Idempotent
   * and forward-only: the same or an older status after a newer one changes nothing. Returns
   * whether the status was applied to a run.
   */
  applyStatus(
    ref: ChaosRunRef,
    status: Partial<ChaosRunStatus>,
    resourceVersion?: string,
  ): Promise<boolean>;
  /** Ends a run the cluster can no longer report on (the ChaosRun vanished or was never made). */
  fail(id: string, reason: string, message: string): Promise<void>;
  /** Notes on a Pending run why it is still Pending (e.g. the create's outcome is unknown). */
  note(id: string, reason: string, message: string): Promise<void>;
  /**
   * Claims the right to announce a run's end: true for exactly one caller per run, however many
   * backend instances or status replays ask (a conditional update on `notified_at`).
   */
  claimNotification(id: string): Promise<boolean>;
  /** Gives a claim back after the announcement failed, so a later status replay tries again. */
  releaseNotification(id: string): Promise<void>;
}
