import type { DiscoveryApi, FetchApi } from '@backstage/frontend-plugin-api';
import { ResponseError } from '@backstage/errors';
import {
  ChaosBackendClient,
  type ChaosBackendResponse,
  type EntityCeilings,
  type ResilienceScore,
  type Experiment,
  type ExperimentList,
  type ExperimentSourceList,
  type ExperimentSpecInput,
  type Run,
  type RunDetail,
  type RunList,
} from '@chaoscraft/backstage-plugin-chaos-common';
import type { ChaosApi } from './ChaosApi';

/**
 * The answer's body, or the backend's error as a ResponseError. The generated models are
 * returned as the zod model's types: the compiler checks here that the two agree.
 */
async function bodyOf<T>(response: ChaosBackendResponse<T>): Promise<T> {
  if (!response.ok) {
    throw await ResponseError.fromResponse(response);
  }
  return response.json();
}

/**
 * ChaosApi over HTTP, with the user's own credentials (fetchApi adds the token), through the
 * client generated from the backend's openapi.yaml.
 */
export class ChaosClient implements ChaosApi {
  private readonly client: ChaosBackendClient;

  constructor(options: { discoveryApi: DiscoveryApi; fetchApi: FetchApi }) {
    this.client = new ChaosBackendClient(options);
  }

  async listExperiments(query: {
    entityRef: string;
    offset?: number;
    limit?: number;
  }): Promise<ExperimentList> {
    return bodyOf(await this.client.listExperiments({ query }));
  }

  async getExperiment(id: string): Promise<Experiment> {
    return bodyOf(await this.client.getExperiment({ path: { id } }));
  }

  async createExperiment(spec: ExperimentSpecInput): Promise<Experiment> {
    return bodyOf(await this.client.createExperiment({ body: spec }));
  }

  async updateExperiment(
    id: string,
    spec: ExperimentSpecInput,
  ): Promise<Experiment> {
    return bodyOf(
      await this.client.updateExperiment({ path: { id }, body: spec }),
    );
  }

  async deleteExperiment(id: string): Promise<void> {
    const response = await this.client.deleteExperiment({ path: { id } });
    if (!response.ok) {
      throw await ResponseError.fromResponse(response);
    }
  }

  async runExperiment(
    experimentId: string,
    options: { dryRun?: boolean } = {},
  ): Promise<Run> {
    return bodyOf(
      await this.client.runExperiment({
        path: { id: experimentId },
        body: options,
      }),
    );
  }

  async getRun(id: string): Promise<RunDetail> {
    return bodyOf(await this.client.getRun({ path: { id } }));
  }

  async listRuns(query: {
    entityRef: string;
    offset?: number;
    limit?: number;
    after?: string;
  }): Promise<RunList> {
    return bodyOf(await this.client.listRuns({ query }));
  }

  async abortRun(id: string): Promise<Run> {
    return bodyOf(await this.client.abortRun({ path: { id } }));
  }

  async listExperimentSources(
    entityRef: string,
  ): Promise<ExperimentSourceList> {
    return bodyOf(
      await this.client.listExperimentSources({ query: { entityRef } }),
    );
  }

  async getResilienceScore(entityRef: string): Promise<ResilienceScore> {
    return bodyOf(
      await this.client.getResilienceScore({ query: { entityRef } }),
    );
  }

  async getEntityCeilings(entityRef: string): Promise<EntityCeilings> {
    return bodyOf(
      await this.client.getEntityCeilings({ query: { entityRef } }),
    );
  }
}
