import type {
  AuditorService,
  AuthService,
  BackstageCredentials,
  BackstageUserPrincipal,
} from '@backstage/backend-plugin-api';
import type { ActionsRegistryService } from '@backstage/backend-plugin-api/alpha';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { InputError, NotAllowedError, NotFoundError } from '@backstage/errors';
import {
  MAX_PAGE_LIMIT,
  isTerminalPhase,
  type Experiment,
  type Run,
  type RunDetail,
} from '@chaoscraft/backstage-plugin-chaos-common';
import type { JsonObject } from '@backstage/types';
import type { ExperimentStore } from '../database/ExperimentStore';
import type { ExperimentSourceStore } from '../database/ExperimentSourceStore';
import type { RunStore } from '../database/RunStore';
import type { EntityAccess } from '../service/EntityAccess';
import type { RunOperations } from '../service/RunOperations';
import { audited } from '../service/audited';

/** How long `preview-run` waits for the dry run by default, and at most. */
export const PREVIEW_WAIT_DEFAULT_SECONDS = 30;
export const PREVIEW_WAIT_MAX_SECONDS = 120;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type ChaosActionsDeps = {
  actionsRegistry: ActionsRegistryService;
  auth: AuthService;
  auditor: AuditorService;
  experiments: ExperimentStore;
  sources: ExperimentSourceStore;
  runs: RunStore;
  access: EntityAccess;
  runOperations: RunOperations;
  /** Waits between reads of a dry run's record (tests pass a shorter one). */
  pollIntervalMs?: number;
};

function entityRefOf(value: string): string {
  try {
    return stringifyEntityRef(parseEntityRef(value));
  } catch (error) {
    throw new InputError(`entityRef: ${(error as Error).message}`);
  }
}

function idOf(value: string, what: 'experiment' | 'run'): string {
  if (!UUID.test(value))
    throw new NotFoundError(
      `No ${what} with id ${JSON.stringify(
        value.slice(0, 80),
      )} (${what}Id: not a UUID)`,
    );
  return value.toLowerCase();
}

/** Writes need a signed-in user, as through the REST API: a service token acts for nobody. */
function userOf(
  auth: AuthService,
  credentials: BackstageCredentials,
): BackstageCredentials<BackstageUserPrincipal> {
  if (!auth.isPrincipal(credentials, 'user')) {
    throw new NotAllowedError(
      'Only a signed-in user may start or abort chaos runs: call with a user token',
    );
  }
  return credentials;
}

function experimentSummary(e: Experiment) {
  return {
    id: e.id,
    name: e.name,
    entityRef: e.entityRef,
    description: e.description,
    faults: e.faults.map(f => f.type),
    namespace: e.target.namespace,
    labelSelector: e.target.labelSelector,
    selection: e.target.selection,
    duration: e.duration,
    maxBlastRadiusPercent: e.safety.maxBlastRadiusPercent,
    progressive: Boolean(e.safety.progressiveSteps?.length),
    probes: e.hypothesis?.probes.map(p => p.name) ?? [],
    ...(e.schedule ? { schedule: e.schedule } : {}),
    ...(e.managedBy ? { managedBy: e.managedBy } : {}),
  };
}

function runSummary(run: Run & Partial<RunDetail>) {
  return {
    id: run.id,
    experimentId: run.experimentId,
    experimentName: run.experimentName,
    entityRef: run.entityRef,
    cluster: run.cluster,
    namespace: run.namespace,
    dryRun: run.dryRun,
    phase: run.phase,
    ...(run.verdict ? { verdict: run.verdict } : {}),
    ...(run.reason ? { reason: run.reason } : {}),
    ...(run.message ? { message: run.message } : {}),
    ...(run.blastRadius ? { blastRadius: run.blastRadius } : {}),
    createdBy: run.createdBy,
    createdAt: run.createdAt,
    ...(run.finishedAt ? { finishedAt: run.finishedAt } : {}),
    ...(run.targets
      ? {
          targets: run.targets.map(t => ({
            pod: t.pod,
            fault: t.fault,
            phase: t.phase,
            ...(t.node ? { node: t.node } : {}),
          })),
        }
      : {}),
  };
}

/**
 * ChaosCraft's actions in Backstage's Actions Registry, which `@backstage/plugin-mcp-actions-backend`
 * offers to AI clients as MCP tools (ids `chaos:<name>`). Each acts with the caller's
 * credentials and checks the caller's rights on the entity itself: reads answer as the REST API
 * does for entities the caller cannot see (not found), and runs and aborts go through the same
 * `RunOperations` as the REST API, so only the entity's owners may, within the ceilings.
 */
export function registerChaosActions(deps: ChaosActionsDeps): void {
  const {
    actionsRegistry,
    auth,
    auditor,
    experiments,
    sources,
    runs,
    access,
    runOperations,
  } = deps;
  const pollIntervalMs = deps.pollIntervalMs ?? 1000;

  const auditedAction = <T>(
    eventId: string,
    meta: JsonObject,
    action: () => Promise<T>,
  ) =>
    audited(
      auditor,
      { eventId, meta: { ...meta, via: 'actions-registry' } },
      action,
    );

  actionsRegistry.register({
    name: 'list-experiments',
    title: 'List chaos experiments',
    description:
      'Lists the chaos experiments of a catalog entity (e.g. component:default/checkout): their faults, targets, ' +
      'blast-radius limit and schedule, which are kept as code (managedBy, read-only, change them at their source), and ' +
      'every problem with experiments kept as code (a YAML field that breaks the model, a name conflict). Read-only.',
    attributes: { readOnly: true, destructive: false, idempotent: true },
    schema: {
      input: z =>
        z.object({
          entityRef: z
            .string()
            .describe('Full entity reference, e.g. component:default/checkout'),
        }),
      output: z =>
        z.object({
          entityRef: z.string(),
          experiments: z.array(z.object({}).passthrough()),
          problems: z.array(z.object({}).passthrough()),
        }),
    },
    action: async ({ input, credentials }) => {
      const entityRef = entityRefOf(input.entityRef);
      await access.authorizeRead(
        entityRef,
        credentials,
        `No entity ${entityRef} in the catalog`,
      );
      const page = await experiments.list({
        entityRef,
        offset: 0,
        limit: MAX_PAGE_LIMIT,
      });
      const problems = (await sources.list(entityRef)).flatMap(
        source => source.problems,
      );
      return {
        output: {
          entityRef,
          experiments: page.items.map(experimentSummary),
          problems,
        },
      };
    },
  });

  actionsRegistry.register({
    name: 'get-run',
    title: 'Get a chaos run',
    description:
      'One chaos run: its phase (Pending, Preflight, Injecting, Running, RollingBack, Completed, Aborted, Failed), ' +
      'verdict (Passed, Failed, Refused, Inconclusive), blast radius (selected of eligible pods) and the pods it targeted. Read-only.',
    attributes: { readOnly: true, destructive: false, idempotent: true },
    schema: {
      input: z =>
        z.object({ runId: z.string().describe('The run id (a UUID)') }),
      output: z => z.object({ run: z.object({}).passthrough() }),
    },
    action: async ({ input, credentials }) => {
      const id = idOf(input.runId, 'run');
      const notFound = `No run with id ${id}`;
      const run = await runs.get(id);
      if (!run) throw new NotFoundError(notFound);
      await access.authorizeRead(run.entityRef, credentials, notFound);
      return { output: { run: runSummary(run) } };
    },
  });

  actionsRegistry.register({
    name: 'preview-run',
    title: 'Preview a chaos run (dry run)',
    description:
      'Runs an experiment as a dry run: the agent selects the pods it would disrupt and computes the blast radius, ' +
      'and touches nothing. Answers the targets and blast radius, or the refusal (a ceiling, a blast radius over the limit). ' +
      "Needs the caller to own the experiment's entity. Does not change the system under test.",
    attributes: { readOnly: true, destructive: false, idempotent: false },
    schema: {
      input: z =>
        z.object({
          experimentId: z
            .string()
            .describe('The experiment id (a UUID), from list-experiments'),
          waitSeconds: z
            .number()
            .int()
            .min(0)
            .max(PREVIEW_WAIT_MAX_SECONDS)
            .optional()
            .describe(
              `How long to wait for the dry run to finish (default ${PREVIEW_WAIT_DEFAULT_SECONDS})`,
            ),
        }),
      output: z =>
        z.object({ finished: z.boolean(), run: z.object({}).passthrough() }),
    },
    action: async ({ input, credentials }) => {
      const id = idOf(input.experimentId, 'experiment');
      const user = userOf(auth, credentials);
      const started = await auditedAction(
        'run-create',
        { experimentId: id, dryRun: true },
        () => runOperations.start(id, true, user),
      );
      const deadline =
        Date.now() + (input.waitSeconds ?? PREVIEW_WAIT_DEFAULT_SECONDS) * 1000;
      let run: Run & Partial<RunDetail> = started;
      while (!isTerminalPhase(run.phase) && Date.now() < deadline) {
        await new Promise(resolve => setTimeout(resolve, pollIntervalMs));
        run = (await runs.get(started.id)) ?? run;
      }
      return {
        output: { finished: isTerminalPhase(run.phase), run: runSummary(run) },
      };
    },
  });

  actionsRegistry.register({
    name: 'run-experiment',
    title: 'Run a chaos experiment',
    description:
      'Starts a real chaos run of an experiment: the agent disrupts the selected pods (kills them, degrades their ' +
      "network, loads their CPU) for the experiment's duration, checks its hypothesis and rolls back. Only owners of " +
      'the entity may. Use preview-run first to see which pods it would hit. Answers the run; follow it with get-run.',
    attributes: { readOnly: false, destructive: true, idempotent: false },
    schema: {
      input: z =>
        z.object({
          experimentId: z
            .string()
            .describe('The experiment id (a UUID), from list-experiments'),
        }),
      output: z => z.object({ run: z.object({}).passthrough() }),
    },
    action: async ({ input, credentials }) => {
      const id = idOf(input.experimentId, 'experiment');
      const user = userOf(auth, credentials);
      const run = await auditedAction(
        'run-create',
        { experimentId: id, dryRun: false },
        () => runOperations.start(id, false, user),
      );
      return { output: { run: runSummary(run) } };
    },
  });

  actionsRegistry.register({
    name: 'abort-run',
    title: 'Abort a chaos run',
    description:
      'Asks the agent to stop a live chaos run: no further injection, every fault rolled back, the run ends Aborted. ' +
      'Only owners of the entity may. Fails when the run has already ended.',
    attributes: { readOnly: false, destructive: true, idempotent: false },
    schema: {
      input: z =>
        z.object({ runId: z.string().describe('The run id (a UUID)') }),
      output: z => z.object({ run: z.object({}).passthrough() }),
    },
    action: async ({ input, credentials }) => {
      const id = idOf(input.runId, 'run');
      const user = userOf(auth, credentials);
      const run = await auditedAction('run-abort', { runId: id }, () =>
        runOperations.abort(id, user),
      );
      return { output: { run: runSummary(run) } };
    },
  });
}
