import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import type { Request } from 'express';
import type { ExperimentSourceStore } from '../database/ExperimentSourceStore';
import type { createOpenApiRouter } from '../schema/openapi/generated';
import type { EntityAccess } from './EntityAccess';

type Router = Awaited<ReturnType<typeof createOpenApiRouter>>;

/**
 * `GET /sources?entityRef=`: where the entity's experiments kept as code come from and what is
 * wrong there, for whoever may read the entity's chaos (404 otherwise, as for experiments).
 */
export function addSourceRoutes(
  router: Router,
  deps: {
    sources: ExperimentSourceStore;
    access: EntityAccess;
    reader: (req: {
      headers: Request['headers'];
    }) => Promise<BackstageCredentials>;
  },
): void {
  router.get('/sources', async (req, res) => {
    const credentials = await deps.reader(req);
    let entityRef: string;
    try {
      entityRef = stringifyEntityRef(parseEntityRef(req.query.entityRef));
    } catch (error) {
      throw new InputError(`entityRef: ${(error as Error).message}`);
    }
    await deps.access.authorizeRead(
      entityRef,
      credentials,
      `No entity ${entityRef} in the catalog`,
    );
    res.json({ items: await deps.sources.list(entityRef) });
  });
}
