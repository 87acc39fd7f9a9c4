import {
  type AuthService,
  resolveSafeChildPath,
} from '@backstage/backend-plugin-api';
import {
  type Entity,
  parseEntityRef,
  stringifyEntityRef,
} from '@backstage/catalog-model';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import type { JsonObject } from '@backstage/types';
import {
  CHAOS_EXPERIMENTS_LOCATION_ANNOTATION,
  chaosExperimentDocument,
} from '@chaoscraft/backstage-plugin-chaos-common';
import fs from 'node:fs/promises';
import path from 'node:path';
import yaml, { type Document } from 'yaml';
import {
  chaosTabPath,
  chaosTabUrl,
  experimentFor,
  jsonSchemaOf,
  parseInput,
  writeFileInputSchema,
} from '../experimentInput';

export const WRITE_FILE_ACTION_ID = 'chaos:experiment:write-file';

const exists = (file: string) =>
  fs.access(file).then(
    () => true,
    () => false,
  );

/** The entity document of a catalog-info.yaml: the one `entityRef` names, else the first Component. */
function entityDocument(
  documents: Document[],
  entityRef?: string,
): Document | undefined {
  const wanted = entityRef ? parseEntityRef(entityRef) : undefined;
  return documents.find(document => {
    const value = document.toJS() as Entity | null;
    if (!value?.kind || !value.metadata?.name) return false;
    if (!wanted) return value.kind.toLocaleLowerCase('en-US') === 'component';
    return (
      value.kind.toLocaleLowerCase('en-US') ===
        wanted.kind.toLocaleLowerCase('en-US') &&
      (value.metadata.namespace ?? 'default').toLocaleLowerCase('en-US') ===
        wanted.namespace.toLocaleLowerCase('en-US') &&
      value.metadata.name === wanted.name
    );
  });
}

const OUTPUT_SCHEMA: JsonObject = {
  type: 'object',
  properties: {
    path: {
      type: 'string',
      description: 'The file written, relative to the workspace',
    },
    location: {
      type: 'string',
      description:
        'The experiments-location that reads it, relative to catalog-info.yaml',
    },
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
 * `chaos:experiment:write-file`: writes an experiment as code, a ChaosExperiment document in
 * `<directory>/<name>.yaml` next to the workspace's catalog-info.yaml, and (unless `annotate` is
 * false) points the entity's `chaoscraft.io/experiments-location` at that directory, keeping the
 * rest of catalog-info.yaml as it was. Publish the workspace (a pull request) as usual; once
 * merged, the chaos backend reads the file and the experiment shows on the entity's Chaos tab,
 * read-only there, runnable. The entity's annotations come from the workspace's
 * catalog-info.yaml, or from the catalog when the file is not in the workspace.
 */
export function createWriteExperimentFileAction(deps: {
  auth: AuthService;
  catalog: CatalogService;
  appBaseUrl: string;
}) {
  const action = createTemplateAction({
    id: WRITE_FILE_ACTION_ID,
    description:
      'Writes a chaos experiment as code (a ChaosExperiment YAML document) next to catalog-info.yaml in the workspace, ' +
      "and points the entity's chaoscraft.io/experiments-location annotation at it. The target defaults to the entity's annotations.",
    supportsDryRun: true,
    examples: [
      {
        description:
          'Write a latency experiment into the fetched repository, then open a pull request',
        example: yaml.stringify({
          steps: [
            {
              id: 'write',
              action: WRITE_FILE_ACTION_ID,
              name: 'Write the experiment',
              input: {
                name: 'checkout-latency',
                faults: [{ type: 'network-latency', latencyMs: 200 }],
                duration: '2m',
              },
            },
          ],
        }),
      },
    ],
    async handler(ctx) {
      const input = parseInput(writeFileInputSchema, ctx.input);
      const catalogInfo = resolveSafeChildPath(
        ctx.workspacePath,
        input.catalogInfoPath,
      );
      let documents: Document[] = [];
      if (await exists(catalogInfo)) {
        documents = yaml.parseAllDocuments(
          await fs.readFile(catalogInfo, 'utf8'),
        ) as Document[];
        const broken = documents.find(d => d.errors.length > 0);
        if (broken)
          throw new InputError(
            `${input.catalogInfoPath}: ${
              broken.errors[0].message.split('\n')[0]
            }`,
          );
      }
      const document = entityDocument(documents, input.entityRef);
      let entity: Entity | undefined = document?.toJS() as Entity | undefined;
      if (!entity) {
        if (!input.entityRef) {
          throw new InputError(
            `entityRef: required, since ${input.catalogInfoPath} in the workspace defines no Component`,
          );
        }
        entity = await deps.catalog.getEntityByRef(input.entityRef, {
          credentials: await ctx.getInitiatorCredentials(),
        });
        if (!entity)
          throw new NotFoundError(
            `No entity ${input.entityRef} in the catalog (or you may not see it)`,
          );
      }
      const spec = experimentFor(input, entity);

      const directory = resolveSafeChildPath(
        path.dirname(catalogInfo),
        input.directory,
      );
      const file = resolveSafeChildPath(directory, `${spec.name}.yaml`);
      if (!input.overwrite && (await exists(file))) {
        throw new ConflictError(
          `${path.relative(
            ctx.workspacePath,
            file,
          )} already exists (set overwrite: true to replace it)`,
        );
      }
      await fs.mkdir(directory, { recursive: true });
      await fs.writeFile(
        file,
        `# A chaos experiment kept as code: ChaosCraft reads it from ${CHAOS_EXPERIMENTS_LOCATION_ANNOTATION}.\n${yaml.stringify(
          chaosExperimentDocument(spec),
        )}`,
      );

      const location = `./${path
        .relative(path.dirname(catalogInfo), directory)
        .split(path.sep)
        .join('/')}/`;
      if (input.annotate && document) {
        const current = document.getIn([
          'metadata',
          'annotations',
          CHAOS_EXPERIMENTS_LOCATION_ANNOTATION,
        ]);
        if (current === undefined) {
          document.setIn(
            ['metadata', 'annotations', CHAOS_EXPERIMENTS_LOCATION_ANNOTATION],
            location,
          );
          await fs.writeFile(
            catalogInfo,
            documents.map(d => d.toString()).join(''),
          );
        } else if (
          current !== location &&
          current !== location.replace(/\/$/, '')
        ) {
          ctx.logger.warn(
            `${CHAOS_EXPERIMENTS_LOCATION_ANNOTATION} already points at ${String(
              current,
            )}, not ${location}: ChaosCraft will not read the new file until it does`,
          );
        }
      }
      const relative = path
        .relative(ctx.workspacePath, file)
        .split(path.sep)
        .join('/');
      ctx.logger.info(
        `Wrote ${relative} (experiment '${spec.name}' of ${spec.entityRef})`,
      );
      ctx.output('path', relative);
      ctx.output('location', location);
      ctx.output('entityRef', stringifyEntityRef(entity));
      ctx.output(
        'chaosUrl',
        chaosTabUrl(deps.appBaseUrl, parseEntityRef(spec.entityRef)),
      );
      ctx.output('chaosPath', chaosTabPath(parseEntityRef(spec.entityRef)));
    },
  });
  return {
    ...action,
    schema: {
      input: jsonSchemaOf(writeFileInputSchema),
      output: OUTPUT_SCHEMA,
    },
  };
}
