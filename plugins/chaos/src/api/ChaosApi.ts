import { createApiRef } from '@backstage/frontend-plugin-api';
import type {
  Experiment,
  ExperimentList,
  ExperimentSpecInput,
} from '@chaoscraft/backstage-plugin-chaos-common';

/** The chaos backend, as the frontend sees it. */
export interface ChaosApi {
  listExperiments(options: { entityRef: string; offset?: number; limit?: number }): Promise<ExperimentList>;
  getExperiment(id: string): Promise<Experiment>;
  createExperiment(spec: ExperimentSpecInput): Promise<Experiment>;
  updateExperiment(id: string, spec: ExperimentSpecInput): Promise<Experiment>;
  deleteExperiment(id: string): Promise<void>;
}

export const chaosApiRef = createApiRef<ChaosApi>().with({ id: 'plugin.chaos.api' });
