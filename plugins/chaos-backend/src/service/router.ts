import {
  AuditorService,
  BackstageCredentials,
  BackstageUserPrincipal,
  HttpAuthService,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { InputError, NotFoundError } from '@backstage/errors';
import { stringifyEntityRef, parseEntityRef } from '@backstage/catalog-model';
import type { ResourcePermission } from '@backstage/plugin-permission-common';
import {
  DEFAULT_PAGE_LIMIT,
  ExperimentSpec,
  MAX_PAGE_LIMIT,
  MAX_PAGE_OFFSET,
  runRequestSchema,
  runSummaryOf,
  chaosExperimentCreatePermission,
  chaosExperimentDeletePermission,
  chaosExperimentUpdatePermission,
  experimentSpecSchema,
  formatZodIssues,
} from '@chaoscraft/backstage-plugin-chaos-common';
import type { JsonObject } from '@backstage/types';
import type { z } from 'zod';
import type { Request } from 'express';
import type express from 'express';
import { ClusterRegistry } from '../cluster/ClusterRegistry';
import { ExperimentStore } from '../database/ExperimentStore';
import type { ExperimentSourceStore } from '../database/ExperimentSourceStore';
import { RunStore } from '../database/RunStore';
import { decodeRunCursor } from '../database/runCursor';
import { RunMirror } from '../runs/RunMirror';
import { createOpenApiRouter } from '../schema/openapi/generated';
import type { ConfiguredCeilings } from './ceilingsConfig';
import { EntityAccess } from './EntityAccess';
import { bindExperiment } from './ExperimentBinding';
import { addSourceRoutes } from './sourceRoutes';
import { RunOperations } from './RunOperations';
import { audited } from './audited';
import { registerEntityInsightEndpoints } from './endpoints/entityInsights';
import type { ScoreStore } from '../score/ScoreStore';
import { Clock, systemClock } from '../clock';

export type RouterOptions = {
  experiments: ExperimentStore;
  /** Experiments kept as code: where they come from and what is wrong there. */
  sources?: ExperimentSourceStore;
  runs: RunStore;
  clusters: ClusterRegistry;
  mirror: RunMirror;
  access: EntityAccess;
  ceilings: ConfiguredCeilings;
  httpAuth: HttpAuthService;
  auditor: AuditorService;
  logger: LoggerService;
  /** The resilience score's reads; without it `GET /score` answers every fault type unpassed. */
  scores?: ScoreStore;
  /** Where `GET /score` reads the time. */
  clock?: Clock;
};

/**
 * Parses a request body with the one experiment schema. The OpenAPI validator in front has
 * already checked the shape; this applies defaults and the rules JSON Schema cannot say,
 * and names the field of every problem.
 */
export function parseExperimentSpec(body: unknown): ExperimentSpec {
  const spec = parseOrThrow(experimentSpecSchema, body, 'experiment');
  // Store one spelling of each ref, so that listing by entity finds it.
  return {
    ...spec,
    entityRef: normalizeEntityRef(spec.entityRef, 'entityRef'),
  };
}

/** Parses with a common schema; a failure is an InputError naming every field at fault. */
function parseOrThrow<T extends z.ZodType>(
  schema: T,
  body: unknown,
  what: string,
): z.output<T> {
  const result = schema.safeParse(body);
  if (!result.success) {
    const issues = formatZodIssues(result.error);
    throw new InputError(
      `Invalid ${what}: ${issues
        .map(i => `${i.field}: ${i.message}`)
        .join('; ')}`,
    );
  }
  return result.data;
}

function normalizeEntityRef(ref: string, field: string): string {
  try {
    return stringifyEntityRef(parseEntityRef(ref));
  } catch (error) {
    throw new InputError(`${field}: ${(error as Error).message}`);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Ids are UUIDs; anything else names nothing, so it is a 404 before it reaches the database
 * (PostgreSQL's uuid column would otherwise answer an invalid-input error, a 500).
 */
function checkId(id: string, what: 'experiment' | 'run'): string {
  if (!UUID.test(id))
    throw new NotFoundError(
      `No ${what} with id ${JSON.stringify(id.slice(0, 80))} (id: not a UUID)`,
    );
  return id.toLowerCase();
}

/** The paging query both lists share; the OpenAPI validator has already typed it. */
function pageQuery(query: {
  entityRef?: string;
  offset?: number;
  limit?: number;
}): {
  entityRef?: string;
  offset: number;
  limit: number;
} {
  const offset = query.offset ?? 0;
  const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > MAX_PAGE_OFFSET) {
    throw new InputError(
      `offset: must be a whole number from 0 to ${MAX_PAGE_OFFSET}`,
    );
  }
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new InputError(
      `limit: must be a whole number from 1 to ${MAX_PAGE_LIMIT}`,
    );
  }
  return {
    entityRef:
      query.entityRef !== undefined
        ? normalizeEntityRef(query.entityRef, 'entityRef')
        : undefined,
    offset,
    limit,
  };
}

export async function createRouter(
  options: RouterOptions,
): Promise<express.Router> {
  const {
    experiments,
    runs,
    clusters,
    mirror,
    access,
    ceilings,
    httpAuth,
    auditor,
    logger,
  } = options;
  const router = await createOpenApiRouter();
  const runOperations = new RunOperations({
    experiments,
    runs,
    clusters,
    mirror,
    access,
    ceilings,
    logger,
  });

  // The generated router types each request; the credentials only need the headers.
  const reader = (req: {
    headers: Request['headers'];
  }): Promise<BackstageCredentials> =>
    httpAuth.credentials(req as Request, { allow: ['user', 'service'] });
  const writer = (req: {
    headers: Request['headers'];
  }): Promise<BackstageCredentials<BackstageUserPrincipal>> =>
    httpAuth.credentials(req as Request, { allow: ['user'] });

  /** Which entities' chaos a list may show: one (checked) or all the caller may read. */
  async function readableScope(
    query: { entityRef?: string },
    credentials: BackstageCredentials,
    known: () => Promise<string[]>,
  ): Promise<string[]> {
    if (query.entityRef) {
      return [
        ...(await access.readableEntityRefs([query.entityRef], credentials)),
      ];
    }
    return [...(await access.readableEntityRefs(await known(), credentials))];
  }

  /** Reads the entity as the writer sees it (404 if hidden) and checks the write permission. */
  async function writableEntity(
    credentials: BackstageCredentials<BackstageUserPrincipal>,
    permission: ResourcePermission<'catalog-entity'>,
    entityRef: string,
  ) {
    const entity = await access.visibleEntity(entityRef, credentials);
    await access.authorizeWrite(entity, permission, credentials);
    return entity;
  }

  const auditedRequest = <T>(
    req: Request,
    eventId: string,
    meta: JsonObject,
    action: () => Promise<T>,
  ) => audited(auditor, { eventId, meta, request: req }, action);

  router.get('/experiments', async (req, res) => {
    const credentials = await reader(req);
    const page = pageQuery(req.query);
    const entityRefs = await readableScope(page, credentials, () =>
      experiments.listEntityRefs(),
    );
    res.json(await experiments.list({ ...page, entityRefs }));
  });

  router.get('/experiments/:id', async (req, res) => {
    const credentials = await reader(req);
    const id = checkId(req.params.id, 'experiment');
    const notFound = `No experiment with id ${id}`;
    const experiment = await experiments.get(id);
    if (!experiment) throw new NotFoundError(notFound);
    await access.authorizeRead(experiment.entityRef, credentials, notFound);
    res.json(experiment);
  });

  router.post('/experiments', async (req, res) => {
    const credentials = await writer(req);
    const spec = parseExperimentSpec(req.body);
    const created = await auditedRequest(
      req,
      'experiment-create',
      { entityRef: spec.entityRef, name: spec.name },
      async () => {
        const entity = await writableEntity(
          credentials,
          chaosExperimentCreatePermission,
          spec.entityRef,
        );
        bindExperiment(spec, entity, { clusters, ceilings });
        return experiments.create(spec, credentials.principal.userEntityRef);
      },
    );
    res.status(201).json(created);
  });

  router.put('/experiments/:id', async (req, res) => {
    const credentials = await writer(req);
    const id = checkId(req.params.id, 'experiment');
    const spec = parseExperimentSpec(req.body);
    const updated = await auditedRequest(
      req,
      'experiment-update',
      { id, entityRef: spec.entityRef, name: spec.name },
      async () => {
        const existing = await experiments.get(id);
        if (!existing) throw new NotFoundError(`No experiment with id ${id}`);
        await access.authorizeRead(
          existing.entityRef,
          credentials,
          `No experiment with id ${id}`,
        );
        const entity = await writableEntity(
          credentials,
          chaosExperimentUpdatePermission,
          existing.entityRef,
        );
        if (spec.entityRef !== existing.entityRef) {
          throw new InputError(
            `entityRef: an experiment cannot move to another entity (it belongs to ${existing.entityRef})`,
          );
        }
        bindExperiment(spec, entity, { clusters, ceilings });
        const result = await experiments.update(id, spec);
        if (!result) throw new NotFoundError(`No experiment with id ${id}`);
        return result;
      },
    );
    res.json(updated);
  });

  router.delete('/experiments/:id', async (req, res) => {
    const credentials = await writer(req);
    const id = checkId(req.params.id, 'experiment');
    await auditedRequest(req, 'experiment-delete', { id }, async () => {
      const existing = await experiments.get(id);
      if (!existing) throw new NotFoundError(`No experiment with id ${id}`);
      await access.authorizeRead(
        existing.entityRef,
        credentials,
        `No experiment with id ${id}`,
      );
      await writableEntity(
        credentials,
        chaosExperimentDeletePermission,
        existing.entityRef,
      );
      await experiments.delete(id);
    });
    res.status(204).end();
  });

  router.post('/experiments/:id/runs', async (req, res) => {
    const credentials = await writer(req);
    const id = checkId(req.params.id, 'experiment');
    const { dryRun } = parseOrThrow(
      runRequestSchema,
      req.body ?? {},
      'run request',
    );
    const run = await auditedRequest(
      req,
      'run-create',
      { experimentId: id, dryRun },
      () => runOperations.start(id, dryRun, credentials),
    );
    res.status(201).json(runSummaryOf(run));
  });

  if (options.sources)
    addSourceRoutes(router, { sources: options.sources, access, reader });

  router.get('/runs', async (req, res) => {
    const credentials = await reader(req);
    const page = pageQuery(req.query);
    const after =
      req.query.after === undefined
        ? undefined
        : decodeRunCursor(req.query.after);
    if (after && page.offset)
      throw new InputError(
        'after: a cursor page starts at the cursor; leave offset out',
      );
    const entityRefs = await readableScope(page, credentials, () =>
      runs.listEntityRefs(),
    );
    res.json(await runs.list({ ...page, after, entityRefs }));
  });

  router.get('/runs/:id', async (req, res) => {
    const credentials = await reader(req);
    const id = checkId(req.params.id, 'run');
    const notFound = `No run with id ${id}`;
    const run = await runs.get(id);
    if (!run) throw new NotFoundError(notFound);
    await access.authorizeRead(run.entityRef, credentials, notFound);
    res.json(run);
  });

  router.post('/runs/:id/abort', async (req, res) => {
    const credentials = await writer(req);
    const id = checkId(req.params.id, 'run');
    const run = await auditedRequest(req, 'run-abort', { runId: id }, () =>
      runOperations.abort(id, credentials),
    );
    // The answer is a Run, as openapi.yaml says: the detail's fields stay out.
    res.status(202).json(runSummaryOf(run));
  });

  registerEntityInsightEndpoints(router, {
    httpAuth,
    access,
    clusters,
    ceilings,
    scores: options.scores ?? { lastPassedByFaultType: async () => new Map() },
    clock: options.clock ?? systemClock,
  });

  return router;
}
