import type {
  UrlReaderService,
  UrlReaderServiceReadTreeOptions,
  UrlReaderServiceReadTreeResponse,
  UrlReaderServiceReadUrlOptions,
  UrlReaderServiceReadUrlResponse,
  UrlReaderServiceSearchResponse,
} from '@backstage/backend-plugin-api';
import {
  coreServices,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import {
  NotAllowedError,
  NotFoundError,
  NotModifiedError,
} from '@backstage/errors';
import {
  type ReadTreeResponseFactory,
  type ReaderFactory,
  urlReaderFactoriesServiceRef,
} from '@backstage/backend-defaults/urlReader';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

/** A tree larger than this is refused: an experiments folder holds a few small files. */
const MAX_TREE_FILES = 1000;

/**
 * Reads `file:` URLs for the UrlReaderService, only inside the directories that
 * `chaos.experimentsAsCode.localDirectories` lists (symbolic links resolved first, so none leads
 * out). Backstage ships no reader for local files: the catalog reads its `file` locations itself.
 * ChaosCraft reads experiments-locations through the UrlReaderService whatever their kind, so
 * that `make dev` (entities from files) takes the same path as a repository; this reader is what
 * makes that possible, and it is off unless directories are configured.
 */
export class LocalFileUrlReader implements UrlReaderService {
  static fromConfig(
    config: Config,
    treeResponseFactory: ReadTreeResponseFactory,
  ): LocalFileUrlReader {
    const roots =
      config.getOptionalStringArray(
        'chaos.experimentsAsCode.localDirectories',
      ) ?? [];
    return new LocalFileUrlReader(
      roots.map(root => path.resolve(root)),
      treeResponseFactory,
    );
  }

  static readonly factory: ReaderFactory = ({
    config,
    treeResponseFactory,
  }) => {
    const reader = LocalFileUrlReader.fromConfig(config, treeResponseFactory);
    if (reader.roots.length === 0) return [];
    return [{ reader, predicate: (url: URL) => url.protocol === 'file:' }];
  };

  private constructor(
    readonly roots: string[],
    private readonly treeResponseFactory: ReadTreeResponseFactory,
  ) {}

  /** The real path of a file: URL, if it lies inside a configured directory. */
  private async allowedPath(url: string): Promise<string> {
    const wanted = fileURLToPath(url);
    let real: string;
    try {
      real = await fs.realpath(wanted);
    } catch {
      throw new NotFoundError(`${url} does not exist`);
    }
    for (const root of this.roots) {
      let realRoot: string;
      try {
        realRoot = await fs.realpath(root);
      } catch {
        continue;
      }
      if (real === realRoot || real.startsWith(`${realRoot}${path.sep}`))
        return real;
    }
    throw new NotAllowedError(
      `${url} is outside chaos.experimentsAsCode.localDirectories`,
    );
  }

  async readUrl(
    url: string,
    options?: UrlReaderServiceReadUrlOptions,
  ): Promise<UrlReaderServiceReadUrlResponse> {
    const file = await this.allowedPath(url);
    const stat = await fs.stat(file);
    if (!stat.isFile()) throw new NotFoundError(`${url} is not a file`);
    const etag = `${stat.size}-${stat.mtimeMs}`;
    if (options?.etag === etag) throw new NotModifiedError();
    const data = await fs.readFile(file);
    return {
      buffer: async () => data,
      stream: () => Readable.from(data),
      etag,
      lastModifiedAt: stat.mtime,
    };
  }

  async readTree(
    url: string,
    options?: UrlReaderServiceReadTreeOptions,
  ): Promise<UrlReaderServiceReadTreeResponse> {
    const dir = await this.allowedPath(url);
    const files: Array<{
      relative: string;
      full: string;
      size: number;
      mtime: Date;
    }> = [];
    const walk = async (current: string): Promise<void> => {
      for (const entry of await fs.readdir(current, { withFileTypes: true })) {
        const full = path.join(current, entry.name);
        const relative = path.relative(dir, full).split(path.sep).join('/');
        if (entry.isDirectory()) {
          await walk(full);
        } else if (entry.isFile()) {
          const stat = await fs.stat(full);
          if (options?.filter && !options.filter(relative, { size: stat.size }))
            continue;
          if (files.length >= MAX_TREE_FILES)
            throw new NotAllowedError(
              `${url} holds more than ${MAX_TREE_FILES} files`,
            );
          files.push({ relative, full, size: stat.size, mtime: stat.mtime });
        }
      }
    };
    await walk(dir);
    files.sort((a, b) => a.relative.localeCompare(b.relative));
    const etag = createHash('sha256')
      .update(
        JSON.stringify(files.map(f => [f.relative, f.size, f.mtime.getTime()])),
      )
      .digest('hex')
      .slice(0, 32);
    if (options?.etag === etag) throw new NotModifiedError();
    const contents = await Promise.all(files.map(f => fs.readFile(f.full)));
    const response = await this.treeResponseFactory.fromReadableArray(
      files.map((f, i) => ({
        data: Readable.from(contents[i]),
        path: f.relative,
        lastModifiedAt: f.mtime,
      })),
    );
    response.etag = etag;
    return response;
  }

  async search(): Promise<UrlReaderServiceSearchResponse> {
    throw new NotAllowedError('Searching local files is not supported');
  }

  toString(): string {
    return `localFile{roots=${this.roots.join(',')}}`;
  }
}

/**
 * Adds the local file reader to the backend's UrlReaderService (`backend.add(...)`); it reads
 * nothing unless `chaos.experimentsAsCode.localDirectories` is set.
 */
export const localFileUrlReaderFactory = createServiceFactory({
  service: urlReaderFactoriesServiceRef,
  deps: { config: coreServices.rootConfig },
  async factory() {
    return LocalFileUrlReader.factory;
  },
});
