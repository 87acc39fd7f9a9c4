import type {
  BackstageCredentials,
  HttpAuthService,
} from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import {
  DEFAULT_SCORE_DECAY,
  type EntityCeilings,
  effectiveCeilings,
  resilienceScore,
  readEntityTarget,
} from '@chaoscraft/backstage-plugin-chaos-common';
import type { Request } from 'express';
import type { ClusterRegistry } from '../../cluster/ClusterRegistry';
import type { Clock } from '../../clock';
import type { ScoreStore } from '../../score/ScoreStore';
import type { ConfiguredCeilings } from '../ceilingsConfig';
import type { EntityAccess } from '../EntityAccess';
import type { createOpenApiRouter } from '../../schema/openapi/generated';

type ChaosRouter = Awaited<ReturnType<typeof createOpenApiRouter>>;

const DAY_MS = 24 * 60 * 60 * 1000;

function entityRefOf(ref: string): string {
  try {
    return stringifyEntityRef(parseEntityRef(ref));
  } catch (error) {
    throw new InputError(`entityRef: ${(error as Error).message}`);
  }
}

/**
 * Read-only endpoints about one entity, for anyone who may read its chaos:
 * - `GET /score?entityRef=`: its resilience score, computed at the injected clock's now from one
 *   grouped, indexed query (ScoreStore), never from the whole history;
 * - `GET /ceilings?entityRef=`: the ceilings its experiments must stay under, so the form checks
 *   them with the backend's own rule before saving.
 */
export function registerEntityInsightEndpoints(
  router: ChaosRouter,
  deps: {
    httpAuth: HttpAuthService;
    access: EntityAccess;
    scores: ScoreStore;
    clusters: ClusterRegistry;
    ceilings: ConfiguredCeilings;
    clock: Clock;
  },
): void {
  const reader = (req: {
    headers: Request['headers'];
  }): Promise<BackstageCredentials> =>
    deps.httpAuth.credentials(req as Request, { allow: ['user', 'service'] });

  router.get('/score', async (req, res) => {
    const credentials = await reader(req);
    const entityRef = entityRefOf(req.query.entityRef);
    await deps.access.authorizeRead(
      entityRef,
      credentials,
      `No entity ${entityRef} in the catalog`,
    );
    const now = deps.clock.now();
    const since = new Date(
      now.getTime() - DEFAULT_SCORE_DECAY.zeroValueDays * DAY_MS,
    );
    const lastPassed = await deps.scores.lastPassedByFaultType(
      entityRef,
      since,
    );
    res.json(
      resilienceScore({
        entityRef,
        faultTypes: deps.ceilings.ceilings.allowedFaultTypes,
        lastPassed,
        now,
      }),
    );
  });

  router.get('/ceilings', async (req, res) => {
    const credentials = await reader(req);
    const entityRef = entityRefOf(req.query.entityRef);
    const notFound = `No entity ${entityRef} in the catalog`;
    await deps.access.authorizeRead(entityRef, credentials, notFound);
    const entity = await deps.access.visibleEntity(entityRef, credentials);
    const read = readEntityTarget(entity.metadata.annotations ?? {});
    if (read.problem)
      throw new InputError(
        `${read.problem.annotation}: ${read.problem.message}`,
      );
    const cluster = deps.clusters.resolve(read.target.cluster);
    const ceilings = effectiveCeilings(deps.ceilings.ceilings, {
      clusterMaxBlastRadiusPercent:
        deps.ceilings.clusterMaxBlastRadiusPercent.get(cluster.name),
      entityMaxBlastRadiusPercent: read.target.maxBlastRadiusPercent,
    });
    const answer: EntityCeilings = {
      entityRef,
      cluster: cluster.name,
      ...ceilings,
      allowedFaultTypes: [...ceilings.allowedFaultTypes],
      probeHosts: {
        allow: [...ceilings.probeHosts.allow],
        deny: [...ceilings.probeHosts.deny],
      },
    };
    res.json(answer);
  });
}
