import type {
  AuthService,
  DiscoveryService,
} from '@backstage/backend-plugin-api';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { InputError, NotFoundError } from '@backstage/errors';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import type { JsonObject } from '@backstage/types';
import {
  experimentSpecSchema,
  isTerminalPhase,
  type RunDetail,
} from '@chaoscraft/backstage-plugin-chaos-common';
import yaml from 'yaml';
import { z } from 'zod';
import { ChaosApiOnBehalf } from '../chaosApi';
import {
  chaosTabPath,
  chaosTabUrl,
  jsonSchemaOf,
  parseInput,
} from '../experimentInput';

export const RUN_ACTION_ID = 'chaos:run';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const runInputSchema = z
  .object({
    experimentId: z
      .string()
      .regex(UUID, 'must be an experiment id (a UUID)')
      .optional(),
    entityRef: experimentSpecSchema.shape.entityRef.optional(),
    name: experimentSpecSchema.shape.name.optional(),
    dryRun: z.boolean().default(false),
    wait: z.boolean().default(false),
    waitSeconds: z.number().int().min(1).max(600).default(120),
  })
  .refine(
    i =>
      i.experimentId !== undefined ||
      (i.entityRef !== undefined && i.name !== undefined),
    {
      message: 'give experimentId, or entityRef and name',
      path: ['experimentId'],
    },
  );

const OUTPUT_SCHEMA: JsonObject = {
  type: 'object',
  properties: {
    runId: { type: 'string' },
    phase: { type: 'string' },
    verdict: { type: 'string' },
    blastRadius: {
      type: 'object',
      description: 'selected, eligible, percent, limit',
    },
    targets: {
      type: 'array',
      items: { type: 'string' },
      description: 'The pods the run selected',
    },
    runUrl: {
      type: 'string',
      description: "The run on the entity's Chaos tab (absolute URL)",
    },
    runPath: {
      type: 'string',
      description:
        "The run on the entity's Chaos tab as a path in the app: for output links",
    },
  },
};

/**
 * `chaos:run`: starts a run of an experiment (by id, or by entity and name), as the user running
 * the template. `dryRun: true` selects the targets and measures the blast radius without touching
 * anything; `wait: true` waits for the run to end. A template's dry run starts nothing.
 */
export function createChaosRunAction(deps: {
  auth: AuthService;
  discovery: DiscoveryService;
  appBaseUrl: string;
  pollIntervalMs?: number;
}) {
  const action = createTemplateAction({
    id: RUN_ACTION_ID,
    description:
      "Starts a run of a chaos experiment on behalf of the user running the template (only the entity's owners may). " +
      'With dryRun, the agent only selects the targets and computes the blast radius.',
    supportsDryRun: true,
    examples: [
      {
        description:
          'A dry run of the experiment created by an earlier step, waiting for its targets',
        example: yaml.stringify({
          steps: [
            {
              id: 'preview',
              action: RUN_ACTION_ID,
              name: 'Preview the targets',
              input: {
                experimentId: '${{ steps.experiment.output.experimentId }}',
                dryRun: true,
                wait: true,
              },
            },
          ],
        }),
      },
    ],
    async handler(ctx) {
      const input = parseInput(runInputSchema, ctx.input);
      const credentials = await ctx.getInitiatorCredentials();
      const api = new ChaosApiOnBehalf(deps, credentials);
      if (ctx.isDryRun) {
        ctx.logger.info(
          `Dry run: would start a ${input.dryRun ? 'dry run' : 'run'} of ${
            input.experimentId ?? `${input.entityRef}/${input.name}`
          }`,
        );
        ctx.output('runId', 'dry-run');
        ctx.output('phase', 'Pending');
        return;
      }
      const experiment = input.experimentId
        ? await api.getExperiment(input.experimentId)
        : await api.findExperiment(
            stringifyEntityRef(parseEntityRef(input.entityRef!)),
            input.name!,
          );
      if (!experiment)
        throw new NotFoundError(
          `${input.entityRef} has no experiment named '${input.name}'`,
        );
      const started = await ctx.checkpoint({
        key: `chaos.run.${experiment.id}.${input.dryRun ? 'dry' : 'real'}`,
        fn: async () => ({
          id: (await api.runExperiment(experiment.id, input.dryRun)).id,
        }),
      });
      ctx.logger.info(
        `Started ${input.dryRun ? 'a dry run' : 'a run'} ${started.id} of '${
          experiment.name
        }' on ${experiment.entityRef}`,
      );
      let run: RunDetail = await api.getRun(started.id);
      if (input.wait) {
        const deadline = Date.now() + input.waitSeconds * 1000;
        while (
          !isTerminalPhase(run.phase) &&
          Date.now() < deadline &&
          !ctx.signal?.aborted
        ) {
          await new Promise(resolve =>
            setTimeout(resolve, deps.pollIntervalMs ?? 1000),
          );
          run = await api.getRun(started.id);
        }
        if (!isTerminalPhase(run.phase)) {
          throw new InputError(
            `Run ${run.id} had not ended after ${input.waitSeconds}s (phase ${
              run.phase
            }); see ${chaosTabUrl(
              deps.appBaseUrl,
              parseEntityRef(run.entityRef),
              run.id,
            )}`,
          );
        }
        ctx.logger.info(
          `Run ${run.id} ended ${run.phase}${
            run.verdict ? `, verdict ${run.verdict}` : ''
          }${run.message ? `: ${run.message}` : ''}`,
        );
      }
      ctx.output('runId', run.id);
      ctx.output('phase', run.phase);
      if (run.verdict) ctx.output('verdict', run.verdict);
      if (run.blastRadius)
        ctx.output('blastRadius', run.blastRadius as unknown as JsonObject);
      ctx.output(
        'targets',
        run.targets.map(t => t.pod),
      );
      ctx.output(
        'runUrl',
        chaosTabUrl(deps.appBaseUrl, parseEntityRef(run.entityRef), run.id),
      );
      ctx.output(
        'runPath',
        chaosTabPath(parseEntityRef(run.entityRef), run.id),
      );
    },
  });
  return {
    ...action,
    schema: { input: jsonSchemaOf(runInputSchema), output: OUTPUT_SCHEMA },
  };
}
