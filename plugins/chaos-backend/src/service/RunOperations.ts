import type {
  BackstageCredentials,
  BackstageUserPrincipal,
  LoggerService,
} from '@backstage/backend-plugin-api';
import {
  ConflictError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';
import {
  chaosRunAbortPermission,
  chaosRunCreatePermission,
  isTerminalPhase,
  type Run,
  type RunDetail,
} from '@chaoscraft/backstage-plugin-chaos-common';
import type { ClusterRegistry } from '../cluster/ClusterRegistry';
import type { ExperimentStore } from '../database/ExperimentStore';
import type { RunStore } from '../database/RunStore';
import { launchExperimentRun } from '../runs/RunLauncher';
import type { RunMirror } from '../runs/RunMirror';
import type { ConfiguredCeilings } from './ceilingsConfig';
import type { EntityAccess } from './EntityAccess';

/**
 * Starting and aborting a run on a user's behalf, with every check: the caller must see the
 * entity (404 otherwise, as for an id that does not exist) and be allowed the write on it. The
 * REST API and the actions of the Actions Registry (MCP) both go through here, so the rules are
 * written once.
 */
export class RunOperations {
  constructor(
    private readonly deps: {
      experiments: ExperimentStore;
      runs: RunStore;
      clusters: ClusterRegistry;
      mirror: RunMirror;
      access: EntityAccess;
      ceilings: ConfiguredCeilings;
      logger: LoggerService;
    },
  ) {}

  /** Starts a run of the experiment (a dry run selects and measures, touching nothing). */
  async start(
    experimentId: string,
    dryRun: boolean,
    credentials: BackstageCredentials<BackstageUserPrincipal>,
  ): Promise<Run> {
    const { experiments, access } = this.deps;
    const notFound = `No experiment with id ${experimentId}`;
    const experiment = await experiments.get(experimentId);
    if (!experiment) throw new NotFoundError(notFound);
    await access.authorizeRead(experiment.entityRef, credentials, notFound);
    const entity = await access.visibleEntity(
      experiment.entityRef,
      credentials,
    );
    await access.authorizeWrite(entity, chaosRunCreatePermission, credentials);
    return launchExperimentRun({
      experiment,
      entity,
      dryRun,
      createdBy: credentials.principal.userEntityRef,
      credentials,
      clusters: this.deps.clusters,
      ceilings: this.deps.ceilings,
      runs: this.deps.runs,
      mirror: this.deps.mirror,
      logger: this.deps.logger,
    });
  }

  /** Hands an abort to the cluster; returns the run as recorded then. */
  async abort(
    runId: string,
    credentials: BackstageCredentials<BackstageUserPrincipal>,
  ): Promise<RunDetail> {
    const { runs, access } = this.deps;
    const notFound = `No run with id ${runId}`;
    const existing = await runs.get(runId);
    if (!existing) throw new NotFoundError(notFound);
    await access.authorizeRead(existing.entityRef, credentials, notFound);
    const entity = await access.visibleEntity(existing.entityRef, credentials);
    await access.authorizeWrite(entity, chaosRunAbortPermission, credentials);
    await this.abortChaosRun(existing);
    return existing;
  }

  /**
   * Aborts whenever the run's ChaosRun exists and is live, whatever the record says (a create
   * whose answer was lost may have left it Failed); ConflictError when there is nothing to abort.
   */
  private async abortChaosRun(run: {
    id: string;
    cluster: string;
    namespace: string;
    resourceName: string;
    phase: string;
  }) {
    const { mirror, runs } = this.deps;
    const gateway = mirror.gateway(run.cluster);
    const uid = await runs.resourceUid(run.id);
    let object;
    try {
      object = await gateway.get(run.namespace, run.resourceName);
    } catch (error) {
      throw new ServiceUnavailableError(
        `Could not read ChaosRun ${run.namespace}/${
          run.resourceName
        } in cluster ${run.cluster}: ${(error as Error).message}`,
      );
    }
    if (!object || (uid && object.metadata.uid !== uid)) {
      throw new ConflictError(
        isTerminalPhase(run.phase as never)
          ? `Run ${run.id} has already ended (${run.phase})`
          : `Run ${run.id} has nothing to abort: its ChaosRun no longer exists in cluster ${run.cluster}`,
      );
    }
    if (isTerminalPhase(object.status?.phase)) {
      await mirror.mirror(run.cluster, object);
      throw new ConflictError(
        `Run ${run.id} has already ended (${object.status?.phase})`,
      );
    }
    try {
      await gateway.abort(run.namespace, run.resourceName, object.metadata.uid);
    } catch (error) {
      const code = (error as { code?: number }).code;
      if (code === 404 || code === 409) {
        throw new ConflictError(
          `Run ${run.id} has nothing to abort: its ChaosRun was deleted or replaced`,
        );
      }
      throw new ServiceUnavailableError(
        `Could not abort ChaosRun ${run.namespace}/${run.resourceName}: ${
          (error as Error).message
        }`,
      );
    }
  }
}
