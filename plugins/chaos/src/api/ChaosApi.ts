import { createApiRef } from '@backstage/frontend-plugin-api';
import type {
  EntityCeilings,
  Experiment,
  ExperimentList,
  ExperimentSourceList,
  ExperimentSpecInput,
  Run,
  RunDetail,
  RunList,
  ResilienceScore,
} from '@chaoscraft/backstage-plugin-chaos-common';

/** The chaos backend, as the frontend sees it. */
export interface ChaosApi {
  listExperiments(options: {
    entityRef: string;
    offset?: number;
    limit?: number;
  }): Promise<ExperimentList>;
  getExperiment(id: string): Promise<Experiment>;
  createExperiment(spec: ExperimentSpecInput): Promise<Experiment>;
  updateExperiment(id: string, spec: ExperimentSpecInput): Promise<Experiment>;
  deleteExperiment(id: string): Promise<void>;
  /** Starts a run of the experiment; a dry run selects targets and computes the blast radius only. */
  runExperiment(
    experimentId: string,
    options?: { dryRun?: boolean },
  ): Promise<Run>;
  getRun(id: string): Promise<RunDetail>;
  /** Runs of one entity, newest first; `after` takes a page's nextCursor. */
  listRuns(options: {
    entityRef: string;
    offset?: number;
    limit?: number;
    after?: string;
  }): Promise<RunList>;
  /** Asks the run to stop; it rolls back, then ends Aborted. */
  abortRun(id: string): Promise<Run>;
  /** Where the entity's experiments kept as code come from, and the problems found there. */
  listExperimentSources(entityRef: string): Promise<ExperimentSourceList>;
  /** The entity's resilience score, computed by the backend now, with what raises it. */
  getResilienceScore(entityRef: string): Promise<ResilienceScore>;
  /** The ceilings the entity's experiments must stay under (operator's, cluster's, entity's). */
  getEntityCeilings(entityRef: string): Promise<EntityCeilings>;
}

export const chaosApiRef = createApiRef<ChaosApi>().with({
  id: 'plugin.chaos.api',
});
