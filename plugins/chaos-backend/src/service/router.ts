import {
  AuditorService,
  HttpAuthService,
  LoggerService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
} from '@backstage/errors';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { stringifyEntityRef, parseEntityRef } from '@backstage/catalog-model';
import {
  AuthorizeResult,
  ResourcePermission,
} from '@backstage/plugin-permission-common';
import {
  DEFAULT_PAGE_LIMIT,
  ExperimentSpec,
  chaosRunAbortPermission,
  chaosRunCreatePermission,
  isTerminalPhase,
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
import { RunStore } from '../database/RunStore';
import { launchExperimentRun } from '../runs/RunLauncher';
import { RunMirror } from '../runs/RunMirror';
import { createOpenApiRouter } from '../schema/openapi/generated';

export type RouterOptions = {
  experiments: ExperimentStore;
  runs: RunStore;
  clusters: ClusterRegistry;
  mirror: RunMirror;
  catalog: CatalogService;
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  auditor: AuditorService;
  logger: LoggerService;
};

/**
 * Parses a request body with the one experiment schema. The OpenAPI validator in front has
 * already checked the shape; this applies defaults and the rules JSON Schema cannot say,
 * and names the field of every problem.
 */
export function parseExperimentSpec(body: unknown): ExperimentSpec {
  const spec = parseOrThrow(experimentSpecSchema, body, 'experiment');
  // Store one spelling of each ref, so that listing by entity finds it.
  return { ...spec, entityRef: normalizeEntityRef(spec.entityRef, 'entityRef') };
}

/** Parses with a common schema; a failure is an InputError naming every field at fault. */
function parseOrThrow<T extends z.ZodType>(schema: T, body: unknown, what: string): z.output<T> {
  const result = schema.safeParse(body);
  if (!result.success) {
    const issues = formatZodIssues(result.error);
    throw new InputError(`Invalid ${what}: ${issues.map(i => `${i.field}: ${i.message}`).join('; ')}`);
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

/** The paging query both lists share; the OpenAPI validator has already typed it. */
function pageQuery(query: { entityRef?: string; offset?: number; limit?: number }): {
  entityRef?: string;
  offset: number;
  limit: number;
} {
  return {
    entityRef: query.entityRef ? normalizeEntityRef(query.entityRef, 'entityRef') : undefined,
    offset: query.offset ?? 0,
    limit: query.limit ?? DEFAULT_PAGE_LIMIT,
  };
}

export async function createRouter(options: RouterOptions): Promise<express.Router> {
  const { experiments, runs, clusters, mirror, catalog, httpAuth, permissions, auditor } = options;
  const router = await createOpenApiRouter();

  /** Only the entity's owners may change its experiments: the policy decides, per entity. */
  async function authorize(
    req: Request,
    permission: ResourcePermission<'catalog-entity'>,
    entityRef: string,
  ): Promise<void> {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    const [decision] = await permissions.authorize(
      [{ permission, resourceRef: entityRef }],
      { credentials },
    );
    if (decision.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError(
        `You may not ${permission.attributes.action} chaos experiments of ${entityRef}: only its owners may`,
      );
    }
  }

  async function userRef(req: Request): Promise<string> {
    const credentials = await httpAuth.credentials(req, { allow: ['user'] });
    return credentials.principal.userEntityRef;
  }

  async function audited<T>(
    req: Request,
    eventId: string,
    meta: JsonObject,
    action: () => Promise<T>,
  ): Promise<T> {
    const event = await auditor.createEvent({ eventId, request: req, severityLevel: 'medium', meta });
    try {
      const result = await action();
      await event.success();
      return result;
    } catch (error) {
      await event.fail({ error: error as Error });
      throw error;
    }
  }

  router.get('/experiments', async (req, res) => {
    await httpAuth.credentials(req, { allow: ['user', 'service'] });
    res.json(await experiments.list(pageQuery(req.query)));
  });

  router.get('/experiments/:id', async (req, res) => {
    await httpAuth.credentials(req, { allow: ['user', 'service'] });
    const experiment = await experiments.get(req.params.id);
    if (!experiment) throw new NotFoundError(`No experiment with id ${req.params.id}`);
    res.json(experiment);
  });

  router.post('/experiments', async (req, res) => {
    const spec = parseExperimentSpec(req.body);
    const created = await audited(
      req,
      'experiment-create',
      { entityRef: spec.entityRef, name: spec.name },
      async () => {
        await authorize(req, chaosExperimentCreatePermission, spec.entityRef);
        return experiments.create(spec, await userRef(req));
      },
    );
    res.status(201).json(created);
  });

  router.put('/experiments/:id', async (req, res) => {
    const spec = parseExperimentSpec(req.body);
    const { id } = req.params;
    const updated = await audited(
      req,
      'experiment-update',
      { id, entityRef: spec.entityRef, name: spec.name },
      async () => {
        const existing = await experiments.get(id);
        if (!existing) throw new NotFoundError(`No experiment with id ${id}`);
        await authorize(req, chaosExperimentUpdatePermission, existing.entityRef);
        if (spec.entityRef !== existing.entityRef) {
          throw new InputError(
            `entityRef: an experiment cannot move to another entity (it belongs to ${existing.entityRef})`,
          );
        }
        const result = await experiments.update(id, spec);
        if (!result) throw new NotFoundError(`No experiment with id ${id}`);
        return result;
      },
    );
    res.json(updated);
  });

  router.delete('/experiments/:id', async (req, res) => {
    const { id } = req.params;
    await audited(req, 'experiment-delete', { id }, async () => {
      const existing = await experiments.get(id);
      if (!existing) throw new NotFoundError(`No experiment with id ${id}`);
      await authorize(req, chaosExperimentDeletePermission, existing.entityRef);
      await experiments.delete(id);
    });
    res.status(204).end();
  });

  router.post('/experiments/:id/runs', async (req, res) => {
    const { dryRun } = parseOrThrow(runRequestSchema, req.body ?? {}, 'run request');
    const { id } = req.params;
    const run = await audited(req, 'run-create', { experimentId: id, dryRun }, async () => {
      const experiment = await experiments.get(id);
      if (!experiment) throw new NotFoundError(`No experiment with id ${id}`);
      await authorize(req, chaosRunCreatePermission, experiment.entityRef);
      const credentials = await httpAuth.credentials(req, { allow: ['user'] });
      return launchExperimentRun({
        experiment,
        dryRun,
        createdBy: credentials.principal.userEntityRef,
        credentials,
        catalog,
        clusters,
        runs,
        mirror,
      });
    });
    res.status(201).json(run);
  });

  router.get('/runs', async (req, res) => {
    await httpAuth.credentials(req, { allow: ['user', 'service'] });
    res.json(await runs.list(pageQuery(req.query)));
  });

  router.get('/runs/:id', async (req, res) => {
    await httpAuth.credentials(req, { allow: ['user', 'service'] });
    const run = await runs.get(req.params.id);
    if (!run) throw new NotFoundError(`No run with id ${req.params.id}`);
    res.json(run);
  });

  router.post('/runs/:id/abort', async (req, res) => {
    const { id } = req.params;
    const run = await audited(req, 'run-abort', { runId: id }, async () => {
      const existing = await runs.get(id);
      if (!existing) throw new NotFoundError(`No run with id ${id}`);
      await authorize(req, chaosRunAbortPermission, existing.entityRef);
      if (isTerminalPhase(existing.phase)) {
        throw new ConflictError(`Run ${id} has already ended (${existing.phase})`);
      }
      await mirror.gateway(existing.cluster).abort(existing.namespace, existing.resourceName);
      return existing;
    });
    // The answer is a Run, as openapi.yaml says: the detail's fields stay out.
    res.status(202).json(runSummaryOf(run));
  });

  return router;
}
