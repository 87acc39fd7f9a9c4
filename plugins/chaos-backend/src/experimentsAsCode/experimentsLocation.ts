import {
  ANNOTATION_LOCATION,
  type Entity,
  parseLocationRef,
} from '@backstage/catalog-model';
import type { ScmIntegrationRegistry } from '@backstage/integration';
import { CHAOS_EXPERIMENTS_LOCATION_ANNOTATION } from '@chaoscraft/backstage-plugin-chaos-common';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** Where an entity keeps its experiments as code, as a URL the UrlReaderService reads. */
export type ResolvedLocation =
  | { url: string; problem?: undefined }
  | { url?: undefined; problem: string };

/**
 * Resolves an entity's `chaoscraft.io/experiments-location`:
 * - `url:<url>` or an absolute `http(s)` URL: that URL;
 * - `file:<path>`: a local file or directory (development; the backend's file reader only reads
 *   inside `chaos.experimentsAsCode.localDirectories`);
 * - anything else is a path relative to the file that defines the entity
 *   (`backstage.io/managed-by-location`), so `./chaos/` next to `catalog-info.yaml` is the
 *   `chaos` folder beside it, in a repository or on disk alike.
 * A value ending in `.yaml`/`.yml` names one file (it may hold several documents); any other
 * names a directory whose YAML files are read.
 */
export function resolveExperimentsLocation(
  entity: Entity,
  integrations: ScmIntegrationRegistry,
): ResolvedLocation {
  const value =
    entity.metadata.annotations?.[
      CHAOS_EXPERIMENTS_LOCATION_ANNOTATION
    ]?.trim();
  const annotation = CHAOS_EXPERIMENTS_LOCATION_ANNOTATION;
  if (!value)
    return { problem: `${annotation}: the entity has no such annotation` };
  if (/^https?:\/\//i.test(value)) return { url: value };
  if (value.startsWith('url:')) {
    const target = value.slice(4);
    if (!/^https?:\/\//i.test(target))
      return {
        problem: `${annotation}: url: must be followed by an absolute http(s) URL`,
      };
    return { url: target };
  }
  if (value.startsWith('file:')) {
    const target = value.slice(5);
    if (path.isAbsolute(target))
      return { url: pathToFileURL(target).toString() };
    return relativeTo(entity, target, integrations);
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(value)) {
    return {
      problem: `${annotation}: '${
        value.split(':')[0]
      }:' is not a location type ChaosCraft reads (use url:, file: or a relative path)`,
    };
  }
  return relativeTo(entity, value, integrations);
}

function relativeTo(
  entity: Entity,
  relative: string,
  integrations: ScmIntegrationRegistry,
): ResolvedLocation {
  const annotation = CHAOS_EXPERIMENTS_LOCATION_ANNOTATION;
  const managedBy = entity.metadata.annotations?.[ANNOTATION_LOCATION];
  if (!managedBy) {
    return {
      problem: `${annotation}: '${relative}' is relative, but the entity has no ${ANNOTATION_LOCATION} to resolve it against`,
    };
  }
  let base: { type: string; target: string };
  try {
    base = parseLocationRef(managedBy);
  } catch (error) {
    return {
      problem: `${annotation}: cannot resolve '${relative}' against ${managedBy}: ${
        (error as Error).message
      }`,
    };
  }
  if (base.type === 'file') {
    const resolved = path.resolve(path.dirname(base.target), relative);
    // path.resolve drops a trailing slash; keep "a directory" readable in the URL.
    return { url: pathToFileURL(resolved).toString() };
  }
  if (base.type === 'url') {
    try {
      return {
        url: integrations.resolveUrl({ url: relative, base: base.target }),
      };
    } catch (error) {
      return {
        problem: `${annotation}: cannot resolve '${relative}' against ${
          base.target
        }: ${(error as Error).message}`,
      };
    }
  }
  return {
    problem: `${annotation}: '${relative}' is relative, but the entity comes from a '${base.type}' location, which has no files to be relative to`,
  };
}

/** Whether a location names one file (else a directory). */
export function isFileLocation(url: string): boolean {
  return /\.ya?ml$/i.test(new URL(url).pathname);
}
