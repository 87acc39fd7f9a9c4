import { createApiRef } from '@backstage/frontend-plugin-api';
import type {
  Experiment,
  ExperimentList,
  ExperimentSourceList,
  ExperimentSpecInput,
  Run,
  RunDetail,
  RunList,
} from '@chaoscraft/backstage-plugin-chaos-common';

/** The chaos backend, as the frontend sees it. */
export interface ChaosApi {
  listExperiments(options: { entityRef: string; offset?: number; limit?: number }): Promise<ExperimentList>;
  getExperiment(id: string): Promise<Experiment>;
  createExperiment(spec: ExperimentSpecInput): Promise<Experiment>;
  updateExperiment(id: string, spec: ExperimentSpecInput): Promise<Experiment>;
  deleteExperiment(id: string): Promise<void>;
  /** Starts a run of the experiment; a dry run selects targets and computes the blast radius only. */
  runExperiment(experimentId: string, options?: { dryRun?: boolean }): Promise<Run>;
  getRun(id: string): Promise<RunDetail>;
  /** Runs of one entity, newest first. */
  listRuns(options: { entityRef: string; offset?: number; limit?: number }): Promise<RunList>;
  /** Asks the run to stop; it rolls back, then ends Aborted. */
  abortRun(id: string): Promise<Run>;
  /** Where the entity's experiments kept as code come from, and the problems found there. */
  listExperimentSources(entityRef: string): Promise<ExperimentSourceList>;
}

export const chaosApiRef = createApiRef<ChaosApi>().with({ id: 'plugin.chaos.api' });
