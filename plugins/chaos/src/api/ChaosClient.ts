import type { DiscoveryApi, FetchApi } from '@backstage/frontend-plugin-api';
import { ResponseError } from '@backstage/errors';
import type {
  Experiment,
  ExperimentList,
  ExperimentSpecInput,
  Run,
  RunDetail,
  RunList,
} from '@chaoscraft/backstage-plugin-chaos-common';
import type { ChaosApi } from './ChaosApi';

/** ChaosApi over HTTP, with the user's own credentials (fetchApi adds the token). */
export class ChaosClient implements ChaosApi {
  private readonly discoveryApi: DiscoveryApi;
  private readonly fetchApi: FetchApi;

  constructor(options: { discoveryApi: DiscoveryApi; fetchApi: FetchApi }) {
    this.discoveryApi = options.discoveryApi;
    this.fetchApi = options.fetchApi;
  }

  async listExperiments({ entityRef, offset = 0, limit = 20 }: { entityRef: string; offset?: number; limit?: number }): Promise<ExperimentList> {
    const query = new URLSearchParams({ entityRef, offset: String(offset), limit: String(limit) });
    return this.request(`/experiments?${query}`);
  }

  async getExperiment(id: string): Promise<Experiment> {
    return this.request(`/experiments/${encodeURIComponent(id)}`);
  }

  async createExperiment(spec: ExperimentSpecInput): Promise<Experiment> {
    return this.request('/experiments', { method: 'POST', body: spec });
  }

  async updateExperiment(id: string, spec: ExperimentSpecInput): Promise<Experiment> {
    return this.request(`/experiments/${encodeURIComponent(id)}`, { method: 'PUT', body: spec });
  }

  async deleteExperiment(id: string): Promise<void> {
    await this.request(`/experiments/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }

  async runExperiment(experimentId: string, options: { dryRun?: boolean } = {}): Promise<Run> {
    return this.request(`/experiments/${encodeURIComponent(experimentId)}/runs`, {
      method: 'POST',
      body: options.dryRun === undefined ? {} : { dryRun: options.dryRun },
    });
  }

  async getRun(id: string): Promise<RunDetail> {
    return this.request(`/runs/${encodeURIComponent(id)}`);
  }

  async listRuns({ entityRef, offset = 0, limit = 20 }: { entityRef: string; offset?: number; limit?: number }): Promise<RunList> {
    const query = new URLSearchParams({ entityRef, offset: String(offset), limit: String(limit) });
    return this.request(`/runs?${query}`);
  }

  async abortRun(id: string): Promise<Run> {
    return this.request(`/runs/${encodeURIComponent(id)}/abort`, { method: 'POST' });
  }

  private async request<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    const baseUrl = await this.discoveryApi.getBaseUrl('chaos');
    const response = await this.fetchApi.fetch(`${baseUrl}${path}`, {
      method: init.method ?? 'GET',
      headers: init.body === undefined ? undefined : { 'Content-Type': 'application/json' },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    if (!response.ok) {
      throw await ResponseError.fromResponse(response);
    }
    return (response.status === 204 ? undefined : await response.json()) as T;
  }
}
