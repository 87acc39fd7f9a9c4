import type {
  AuthService,
  BackstageCredentials,
  DiscoveryService,
} from '@backstage/backend-plugin-api';
import {
  InputError,
  NotAllowedError,
  NotFoundError,
  ConflictError,
} from '@backstage/errors';
import {
  ChaosBackendClient,
  type ChaosBackendResponse,
  type Experiment,
  type ExperimentSpecInput,
  type Run,
  type RunDetail,
} from '@chaoscraft/backstage-plugin-chaos-common';

/** The chaos backend's error body: `{ error: { name, message } }`. */
async function failure(
  response: ChaosBackendResponse<unknown>,
  what: string,
): Promise<Error> {
  let message = `${what} failed with ${response.status} ${response.statusText}`;
  try {
    const body = (await response.json()) as { error?: { message?: string } };
    if (body?.error?.message) message = body.error.message;
  } catch {
    // Not JSON: the status line says enough.
  }
  switch (response.status) {
    case 400:
      return new InputError(message);
    case 403:
      return new NotAllowedError(message);
    case 404:
      return new NotFoundError(message);
    case 409:
      return new ConflictError(message);
    default:
      return new Error(message);
  }
}

async function bodyOf<T>(
  response: ChaosBackendResponse<T>,
  what: string,
): Promise<T> {
  if (!response.ok) throw await failure(response, what);
  return response.json();
}

/**
 * The chaos backend's REST API called on behalf of the user who started the task: a token for
 * the chaos plugin issued `onBehalfOf` the task's initiator, so the chaos plugin applies the very
 * checks it applies to the user's own requests (the entity as the user sees it, ownership, the
 * target bound to the entity's annotations, the ceilings). Nothing here bypasses them.
 */
export class ChaosApiOnBehalf {
  private readonly client: ChaosBackendClient;

  constructor(
    private readonly deps: { auth: AuthService; discovery: DiscoveryService },
    private readonly credentials: BackstageCredentials,
  ) {
    this.client = new ChaosBackendClient({
      discoveryApi: {
        getBaseUrl: pluginId => deps.discovery.getBaseUrl(pluginId),
      },
    });
  }

  private async token(): Promise<{ token: string }> {
    return this.deps.auth.getPluginRequestToken({
      onBehalfOf: this.credentials,
      targetPluginId: 'chaos',
    });
  }

  async createExperiment(spec: ExperimentSpecInput): Promise<Experiment> {
    return bodyOf(
      await this.client.createExperiment({ body: spec }, await this.token()),
      'Creating the experiment',
    );
  }

  async getExperiment(id: string): Promise<Experiment> {
    return bodyOf(
      await this.client.getExperiment({ path: { id } }, await this.token()),
      'Reading the experiment',
    );
  }

  async findExperiment(
    entityRef: string,
    name: string,
  ): Promise<Experiment | undefined> {
    const page = await bodyOf(
      await this.client.listExperiments(
        { query: { entityRef, limit: 100 } },
        await this.token(),
      ),
      'Listing experiments',
    );
    return page.items.find(e => e.name === name);
  }

  async runExperiment(id: string, dryRun: boolean): Promise<Run> {
    return bodyOf(
      await this.client.runExperiment(
        { path: { id }, body: { dryRun } },
        await this.token(),
      ),
      'Starting the run',
    );
  }

  async getRun(id: string): Promise<RunDetail> {
    return bodyOf(
      await this.client.getRun({ path: { id } }, await this.token()),
      'Reading the run',
    );
  }
}
