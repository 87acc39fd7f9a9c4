import type {
  ChaosRunStatus,
  Page,
  Run,
  RunDetail,
} from '@chaoscraft/backstage-plugin-chaos-common';

export type NewRun = Pick<
  Run,
  'id' | 'experimentId' | 'experimentName' | 'entityRef' | 'cluster' | 'namespace' | 'resourceName' | 'dryRun' | 'createdBy'
> & { spec: unknown };

/** The durable history of runs, mirrored from ChaosRun status. */
export interface RunStore {
  create(run: NewRun): Promise<Run>;
  get(id: string): Promise<RunDetail | undefined>;
  list(options: { entityRef?: string; offset: number; limit: number }): Promise<Page<Run>>;
  /** Runs whose phase is not terminal: the ones to resync and watch. */
  listLive(): Promise<Run[]>;
  /**
   * Mirrors a ChaosRun status. Idempotent: applying the same status twice, or an older one
   * after a newer one, changes nothing; phase transitions and targets are upserted.
   */
  applyStatus(id: string, status: Partial<ChaosRunStatus>, resourceVersion?: string): Promise<void>;
  /** Ends a run the cluster can no longer report on (the ChaosRun vanished or was never made). */
  fail(id: string, reason: string, message: string): Promise<void>;
}
