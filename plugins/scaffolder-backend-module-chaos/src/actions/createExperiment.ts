import type {
  AuthService,
  DiscoveryService,
} from '@backstage/backend-plugin-api';
import { parseEntityRef } from '@backstage/catalog-model';
import { NotFoundError } from '@backstage/errors';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import type { JsonObject } from '@backstage/types';
import yaml from 'yaml';
import { ChaosApiOnBehalf } from '../chaosApi';
import {
  chaosTabPath,
  chaosTabUrl,
  experimentActionInputSchema,
  experimentFor,
  jsonSchemaOf,
  parseInput,
} from '../experimentInput';

export const CREATE_EXPERIMENT_ACTION_ID = 'chaos:experiment:create';

const OUTPUT_SCHEMA: JsonObject = {
  type: 'object',
  properties: {
    experimentId: {
      type: 'string',
      description: "The experiment's id ('dry-run' in a dry run)",
    },
    experimentName: { type: 'string' },
    entityRef: { type: 'string' },
    chaosUrl: {
      type: 'string',
      description: "The entity's Chaos tab (absolute URL)",
    },
    chaosPath: {
      type: 'string',
      description:
        "The entity's Chaos tab as a path in the app: for output links",
    },
  },
};

/**
 * `chaos:experiment:create`: creates a chaos experiment on an entity, as the user who runs the
 * template (so only the entity's owners can, within the operator's ceilings). The target is filled
 * from the entity's annotations where the template leaves it out. A dry run checks the input and
 * the entity, and creates nothing.
 */
export function createChaosExperimentAction(deps: {
  auth: AuthService;
  discovery: DiscoveryService;
  catalog: CatalogService;
  appBaseUrl: string;
}) {
  const action = createTemplateAction({
    id: CREATE_EXPERIMENT_ACTION_ID,
    description:
      "Creates a chaos experiment on a catalog entity, on behalf of the user running the template: only the entity's owners may. " +
      "The input is the experiment model; `target` may be left out and is then the entity's namespace and label selector.",
    supportsDryRun: true,
    examples: [
      {
        description: 'Kill 20% of the pods of the chosen service, one minute',
        example: yaml.stringify({
          steps: [
            {
              id: 'experiment',
              action: CREATE_EXPERIMENT_ACTION_ID,
              name: 'Create the experiment',
              input: {
                entityRef: '${{ parameters.entity }}',
                name: 'pod-kill',
                faults: [{ type: 'pod-kill' }],
                target: { selection: { mode: 'percent', percent: 20 } },
                duration: '60s',
              },
            },
          ],
        }),
      },
    ],
    async handler(ctx) {
      const input = parseInput(experimentActionInputSchema, ctx.input);
      const credentials = await ctx.getInitiatorCredentials();
      const entity = await deps.catalog.getEntityByRef(input.entityRef, {
        credentials,
      });
      if (!entity)
        throw new NotFoundError(
          `No entity ${input.entityRef} in the catalog (or you may not see it)`,
        );
      const spec = experimentFor(input, entity);
      const ref = parseEntityRef(spec.entityRef);
      ctx.output('entityRef', spec.entityRef);
      ctx.output('experimentName', spec.name);
      ctx.output('chaosUrl', chaosTabUrl(deps.appBaseUrl, ref));
      ctx.output('chaosPath', chaosTabPath(ref));
      if (ctx.isDryRun) {
        ctx.logger.info(
          `Dry run: would create experiment '${spec.name}' on ${
            spec.entityRef
          } (${spec.faults.map(f => f.type).join(', ')})`,
        );
        ctx.output('experimentId', 'dry-run');
        return;
      }
      // Once per task: a task resumed after a restart does not create the experiment twice.
      const created = await ctx.checkpoint({
        key: `chaos.experiment.create.${spec.entityRef}.${spec.name}`,
        fn: async () => {
          const experiment = await new ChaosApiOnBehalf(
            deps,
            credentials,
          ).createExperiment(spec);
          return { id: experiment.id };
        },
      });
      ctx.logger.info(
        `Created experiment '${spec.name}' (${created.id}) on ${spec.entityRef}`,
      );
      ctx.output('experimentId', created.id);
    },
  });
  return {
    ...action,
    schema: {
      input: jsonSchemaOf(experimentActionInputSchema),
      output: OUTPUT_SCHEMA,
    },
  };
}
