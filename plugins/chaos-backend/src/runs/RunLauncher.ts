import type {
  BackstageCredentials,
  LoggerService,
} from '@backstage/backend-plugin-api';
import type { Entity } from '@backstage/catalog-model';
import { ServiceUnavailableError } from '@backstage/errors';
import type {
  ChaosRunSpecInput,
  Experiment,
  Run,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { randomUUID } from 'node:crypto';
import type { ChaosCluster, ClusterRegistry } from '../cluster/ClusterRegistry';
import type { RunStore } from '../database/RunStore';
import type { ConfiguredCeilings } from '../service/ceilingsConfig';
import { bindExperiment } from '../service/ExperimentBinding';
import type { RunMirror } from './RunMirror';
import {
  RUN_SPAN_ATTRIBUTES,
  traceAnnotations,
} from '@chaoscraft/backstage-plugin-chaos-node';
import { SpanStatusCode, trace, type Span } from '@opentelemetry/api';

/** The ChaosRun's name: the experiment's, made unique by the run id, within 63 characters. */
export function chaosRunName(experimentName: string, runId: string): string {
  return `${experimentName.slice(0, 54).replace(/-+$/, '')}-${runId.slice(
    0,
    8,
  )}`;
}

/** What the cluster is asked to execute: the experiment as it is now, frozen into the run. */
export function chaosRunSpec(
  experiment: Experiment,
  dryRun: boolean,
): ChaosRunSpecInput {
  return {
    entityRef: experiment.entityRef,
    description: experiment.description,
    target: experiment.target,
    faults: experiment.faults,
    duration: experiment.duration,
    safety: experiment.safety,
    hypothesis: experiment.hypothesis,
    experiment: { name: experiment.name, id: experiment.id },
    dryRun,
  };
}

/**
 * Did the cluster certainly NOT create the object? A 4xx answer (but 408 and 429) is a refusal,
 * and a connection that was never made sent nothing. Anything else (a timeout, a reset, a 5xx
 * from a proxy) may come after the API server stored it: the outcome is unknown.
 */
export function isDefinitelyNotCreated(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'number')
    return code >= 400 && code < 500 && code !== 408 && code !== 429;
  // fetch wraps the socket error: walk the causes for one that says nothing was sent.
  for (let e: any = error, depth = 0; e && depth < 5; e = e.cause, depth++) {
    if (
      [
        'ECONNREFUSED',
        'ENOTFOUND',
        'EAI_AGAIN',
        'EHOSTUNREACH',
        'ENETUNREACH',
      ].includes(e.code)
    )
      return true;
    if (e.message === 'bad port') return true;
  }
  return false;
}

function describe(error: unknown): string {
  const body = (error as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      return (JSON.parse(body) as { message?: string }).message ?? body;
    } catch {
      return body;
    }
  }
  return (
    (body as { message?: string })?.message ??
    (error as Error).message ??
    String(error)
  );
}

const tracer = trace.getTracer('chaoscraft-backend');

/** The trace id of a span, as log metadata (none when nothing is traced). */
function traceIdOf(span: Span | undefined): { traceId: string } | undefined {
  const traceId = span?.spanContext().traceId;
  return traceId && span?.isRecording() ? { traceId } : undefined;
}

/**
 * Starts a run: records it first (atomically within the live-run limits), so that nothing the
 * user asked for is lost, then creates the ChaosRun. A create the cluster refused ends the record
 * as Failed with the cluster's reason; a create whose outcome is unknown leaves it Pending and
 * asks the cluster with a GET, and the mirror's resync settles it later if that cannot.
 */
export async function launchRun(options: {
  experiment: Experiment;
  cluster: ChaosCluster;
  dryRun: boolean;
  createdBy: string;
  runs: RunStore;
  mirror: RunMirror;
  maxLiveRunsPerEntity: number;
  logger?: LoggerService;
}): Promise<Run> {
  const id = randomUUID();
  // One trace per run: this span (a child of the HTTP request's when the backend is
  // instrumented) goes onto the ChaosRun, and the agent's spans for the run join it.
  return tracer.startActiveSpan(
    'chaos.run.start',
    {
      attributes: {
        [RUN_SPAN_ATTRIBUTES.runId]: id,
        [RUN_SPAN_ATTRIBUTES.experiment]: options.experiment.name,
        [RUN_SPAN_ATTRIBUTES.entity]: options.experiment.entityRef,
        [RUN_SPAN_ATTRIBUTES.namespace]: options.experiment.target.namespace,
        'chaoscraft.cluster': options.cluster.name,
        'chaoscraft.dry_run': options.dryRun,
        'chaoscraft.faults': options.experiment.faults
          .map(f => f.type)
          .join(','),
      },
    },
    async span => {
      try {
        const run = await startRun(id, options);
        span.setAttribute('chaoscraft.phase', run.phase);
        return run;
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: (error as Error).message,
        });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

async function startRun(
  id: string,
  options: Parameters<typeof launchRun>[0],
): Promise<Run> {
  const { experiment, cluster, dryRun, createdBy, runs, mirror } = options;
  const logger = options.logger?.child({
    runId: id,
    ...(traceIdOf(trace.getActiveSpan()) ?? {}),
  });
  const spec = chaosRunSpec(experiment, dryRun);
  const run = await runs.create(
    {
      id,
      experimentId: experiment.id,
      experimentName: experiment.name,
      entityRef: experiment.entityRef,
      cluster: cluster.name,
      namespace: experiment.target.namespace,
      resourceName: chaosRunName(experiment.name, id),
      dryRun,
      createdBy,
      spec,
    },
    { maxPerEntity: options.maxLiveRunsPerEntity },
  );
  const gateway = mirror.gateway(cluster.name);
  try {
    const created = await gateway.create({
      name: run.resourceName,
      namespace: run.namespace,
      runId: id,
      spec,
      annotations: traceAnnotations(),
    });
    await mirror.mirror(cluster.name, created);
  } catch (error) {
    const detail = describe(error);
    if (isDefinitelyNotCreated(error)) {
      await runs.fail(
        id,
        'ClusterError',
        `Could not create the ChaosRun: ${detail}`,
      );
      throw new ServiceUnavailableError(
        `Could not create the ChaosRun in cluster ${cluster.name}: ${detail}`,
      );
    }
    logger?.warn(
      `The create of ChaosRun ${run.namespace}/${run.resourceName} (run ${id}) has an unknown outcome: ${detail}`,
    );
    await runs.note(
      id,
      'CreateUnconfirmed',
      `The cluster did not confirm the ChaosRun (${detail}); the run stays Pending until the cluster says whether it exists`,
    );
    try {
      const existing = await gateway.get(run.namespace, run.resourceName);
      if (existing) await mirror.mirror(cluster.name, existing);
    } catch (readError) {
      logger?.warn(
        `Could not read ChaosRun ${run.namespace}/${run.resourceName} back: ${readError}`,
      );
    }
  }
  return (await runs.get(id)) ?? run;
}

/**
 * Starts a run of an experiment in its entity's cluster: the path of the Run button and of
 * schedules alike. The entity is read with the caller's credentials, so the catalog's own
 * permissions apply, and the experiment is bound to it again: a target outside the entity's
 * annotations, or beyond the ceilings as they are now, is refused before anything is recorded.
 */
export async function launchExperimentRun(options: {
  experiment: Experiment;
  entity: Entity;
  dryRun: boolean;
  createdBy: string;
  credentials?: BackstageCredentials;
  clusters: ClusterRegistry;
  ceilings: ConfiguredCeilings;
  runs: RunStore;
  mirror: RunMirror;
  logger?: LoggerService;
}): Promise<Run> {
  const { experiment, entity, clusters, ceilings } = options;
  const binding = bindExperiment(experiment, entity, { clusters, ceilings });
  return launchRun({
    ...options,
    cluster: binding.cluster,
    maxLiveRunsPerEntity: binding.ceilings.maxLiveRunsPerEntity,
  });
}
