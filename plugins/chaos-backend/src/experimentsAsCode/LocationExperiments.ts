import type {
  AuthService,
  LoggerService,
  UrlReaderService,
} from '@backstage/backend-plugin-api';
import { CATALOG_FILTER_EXISTS } from '@backstage/catalog-client';
import { type Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { NotModifiedError } from '@backstage/errors';
import type { ScmIntegrationRegistry } from '@backstage/integration';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import {
  CHAOS_EXPERIMENTS_LOCATION_ANNOTATION,
  type ExperimentSource,
  type SourceProblem,
} from '@chaoscraft/backstage-plugin-chaos-common';
import type { ClusterRegistry } from '../cluster/ClusterRegistry';
import {
  type ExperimentSourceStore,
  type ManagedExperiment,
  locationSourceKey,
} from '../database/ExperimentSourceStore';
import type { ConfiguredCeilings } from '../service/ceilingsConfig';
import { bindExperiment } from '../service/ExperimentBinding';
import {
  type ExperimentFile,
  MAX_FILE_BYTES,
  readExperimentFiles,
} from './experimentFiles';
import {
  isFileLocation,
  resolveExperimentsLocation,
} from './experimentsLocation';

/** The Backstage scheduler task that reads every entity's experiments-location. */
export const EXPERIMENT_LOCATIONS_TASK_ID = 'chaos-experiment-locations';

const SOURCE_PREFIX = 'location:';

/** What was last read from a location, kept so that an unchanged one (etag) is not read again. */
type CachedRead = { url: string; etag: string; files: ExperimentFile[] };

/**
 * Experiments kept as code next to the service: the YAML files at each entity's
 * `chaoscraft.io/experiments-location`, read through the UrlReaderService (so a repository's
 * integration credentials and `backend.reading.allow` apply), turned into experiments of that
 * entity and kept in the database as managed experiments: read-only through the API, runnable,
 * scheduled like any other. Each read replaces what the location defined before; a location that
 * cannot be read keeps its experiments and reports why.
 */
export interface LocationExperimentsDeps {
  catalog: CatalogService;
  auth: AuthService;
  reader: UrlReaderService;
  integrations: ScmIntegrationRegistry;
  sources: ExperimentSourceStore;
  clusters: ClusterRegistry;
  ceilings: ConfiguredCeilings;
  logger: LoggerService;
}

export class LocationExperiments {
  private readonly cache = new Map<string, CachedRead>();

  constructor(private readonly deps: LocationExperimentsDeps) {}

  /** Reads every annotated entity's location; forgets entities that no longer have one. */
  async refreshAll(): Promise<ExperimentSource[]> {
    const credentials = await this.deps.auth.getOwnServiceCredentials();
    const keys: string[] = [];
    const results: ExperimentSource[] = [];
    const stream = this.deps.catalog.streamEntities(
      {
        filter: {
          [`metadata.annotations.${CHAOS_EXPERIMENTS_LOCATION_ANNOTATION}`]:
            CATALOG_FILTER_EXISTS,
        },
      },
      { credentials },
    );
    for await (const page of stream) {
      for (const entity of page) {
        const entityRef = stringifyEntityRef(entity);
        keys.push(locationSourceKey(entityRef));
        try {
          results.push(await this.refresh(entity));
        } catch (error) {
          this.deps.logger.error(
            `Could not refresh the experiments kept as code of ${entityRef}: ${error}`,
          );
        }
      }
    }
    const pruned = await this.deps.sources.prune(SOURCE_PREFIX, keys);
    if (pruned > 0)
      this.deps.logger.info(
        `Removed the experiments kept as code of ${pruned} entities that no longer have ${CHAOS_EXPERIMENTS_LOCATION_ANNOTATION}`,
      );
    const live = new Set(keys);
    for (const key of this.cache.keys())
      if (!live.has(key)) this.cache.delete(key);
    return results;
  }

  /** Reads one entity's location and records what it defines. */
  async refresh(entity: Entity): Promise<ExperimentSource> {
    const entityRef = stringifyEntityRef(entity);
    const key = locationSourceKey(entityRef);
    const resolved = resolveExperimentsLocation(entity, this.deps.integrations);
    if (resolved.problem !== undefined) {
      return this.deps.sources.sync({
        key,
        kind: 'location',
        entityRef,
        location:
          entity.metadata.annotations?.[
            CHAOS_EXPERIMENTS_LOCATION_ANNOTATION
          ] ?? '',
        experiments: [],
        problems: [
          {
            kind: 'read',
            source: CHAOS_EXPERIMENTS_LOCATION_ANNOTATION,
            message: resolved.problem,
          },
        ],
      });
    }
    const { url } = resolved;
    let files: ExperimentFile[];
    try {
      files = await this.read(key, url);
    } catch (error) {
      // A location that cannot be read now (a network error, a moved file) keeps what it defined;
      // the problem says why nothing changes.
      this.deps.logger.warn(`Could not read ${url} for ${entityRef}: ${error}`);
      return this.deps.sources.sync({
        key,
        kind: 'location',
        entityRef,
        location: url,
        problems: [
          {
            kind: 'read',
            source: url,
            message: `could not be read: ${(error as Error).message}`,
          },
        ],
      });
    }
    const { experiments: read, problems } = readExperimentFiles(
      files,
      entityRef,
    );
    const experiments: ManagedExperiment[] = [];
    for (const experiment of read) {
      const problem = this.bindingProblem(
        experiment.spec,
        entity,
        experiment.source,
      );
      if (problem) {
        problems.push(problem);
        continue;
      }
      experiments.push({
        spec: experiment.spec,
        managedBy: {
          kind: 'location',
          source: experiment.source,
          ...(/^https?:/i.test(experiment.url) ? { url: experiment.url } : {}),
        },
      });
    }
    return this.deps.sources.sync({
      key,
      kind: 'location',
      entityRef,
      location: url,
      experiments,
      problems,
    });
  }

  private bindingProblem(
    spec: ManagedExperiment['spec'],
    entity: Entity,
    source: string,
  ): SourceProblem | undefined {
    try {
      bindExperiment(spec, entity, {
        clusters: this.deps.clusters,
        ceilings: this.deps.ceilings,
      });
      return undefined;
    } catch (error) {
      return {
        kind: 'binding',
        source,
        name: spec.name,
        message: (error as Error).message,
      };
    }
  }

  /** The YAML files at a location: one file, or every `.yaml`/`.yml` below a directory. */
  private async read(key: string, url: string): Promise<ExperimentFile[]> {
    const cached = this.cache.get(key);
    const etag = cached?.url === url ? cached.etag : undefined;
    try {
      if (isFileLocation(url)) {
        const response = await this.deps.reader.readUrl(url, { etag });
        const text = (await response.buffer()).toString('utf8');
        const files = [{ url, text }];
        this.remember(key, url, response.etag, files);
        return files;
      }
      const tree = await this.deps.reader.readTree(url, {
        etag,
        filter: (path, info) =>
          /\.ya?ml$/i.test(path) && (info?.size ?? 0) <= MAX_FILE_BYTES,
      });
      const base = url.endsWith('/') ? url : `${url}/`;
      const files = await Promise.all(
        (
          await tree.files()
        ).map(async file => ({
          url: this.deps.integrations.resolveUrl({ url: file.path, base }),
          text: (await file.content()).toString('utf8'),
        })),
      );
      files.sort((a, b) => a.url.localeCompare(b.url));
      this.remember(key, url, tree.etag, files);
      return files;
    } catch (error) {
      if (
        (error instanceof NotModifiedError ||
          (error as Error)?.name === 'NotModifiedError') &&
        cached
      )
        return cached.files;
      throw error;
    }
  }

  private remember(
    key: string,
    url: string,
    etag: string | undefined,
    files: ExperimentFile[],
  ): void {
    if (etag) this.cache.set(key, { url, etag, files });
    else this.cache.delete(key);
  }
}
