import { ConfigReader } from '@backstage/config';
import { UrlReaders } from '@backstage/backend-defaults/urlReader';
import { mockServices } from '@backstage/backend-test-utils';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LocalFileUrlReader } from './LocalFileUrlReader';

describe('LocalFileUrlReader, through the UrlReaderService', () => {
  let root: string;
  let outside: string;

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'chaos-files-'));
    outside = await fs.mkdtemp(path.join(os.tmpdir(), 'chaos-outside-'));
    await fs.mkdir(path.join(root, 'chaos', 'nested'), { recursive: true });
    await fs.writeFile(path.join(root, 'chaos', 'a.yaml'), 'a: 1\n');
    await fs.writeFile(path.join(root, 'chaos', 'nested', 'b.yml'), 'b: 2\n');
    await fs.writeFile(path.join(root, 'chaos', 'notes.txt'), 'not yaml\n');
    await fs.writeFile(path.join(outside, 'secret.yaml'), 'secret: true\n');
    await fs.symlink(
      path.join(outside, 'secret.yaml'),
      path.join(root, 'chaos', 'escape.yaml'),
    );
  });

  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
    await fs.rm(outside, { recursive: true, force: true });
  });

  const reader = (directories: string[]) =>
    UrlReaders.create({
      config: new ConfigReader({
        chaos: { experimentsAsCode: { localDirectories: directories } },
      }),
      logger: mockServices.logger.mock(),
      factories: [LocalFileUrlReader.factory],
    });
  const url = (...parts: string[]) =>
    pathToFileURL(path.join(...parts)).toString();

  it('reads a file, then answers NotModified for its etag', async () => {
    const service = reader([root]);
    const response = await service.readUrl(url(root, 'chaos', 'a.yaml'));
    expect((await response.buffer()).toString()).toBe('a: 1\n');
    await expect(
      service.readUrl(url(root, 'chaos', 'a.yaml'), { etag: response.etag }),
    ).rejects.toMatchObject({ name: 'NotModifiedError' });
    await fs.writeFile(path.join(root, 'chaos', 'a.yaml'), 'a: 22\n');
    expect(
      (
        await (
          await service.readUrl(url(root, 'chaos', 'a.yaml'), {
            etag: response.etag,
          })
        ).buffer()
      ).toString(),
    ).toBe('a: 22\n');
  });

  it('reads a directory tree, filtered, with an etag that changes with the files', async () => {
    const service = reader([root]);
    const filter = (p: string) => /\.ya?ml$/.test(p) && !p.startsWith('escape');
    const tree = await service.readTree(url(root, 'chaos'), { filter });
    const files = await tree.files();
    expect(
      await Promise.all(
        files.map(async f => [f.path, (await f.content()).toString()]),
      ),
    ).toEqual([
      ['a.yaml', 'a: 1\n'],
      ['nested/b.yml', 'b: 2\n'],
    ]);
    await expect(
      service.readTree(url(root, 'chaos'), { etag: tree.etag, filter }),
    ).rejects.toMatchObject({ name: 'NotModifiedError' });
    await fs.writeFile(path.join(root, 'chaos', 'nested', 'c.yaml'), 'c: 3\n');
    const changed = await service.readTree(url(root, 'chaos'), {
      etag: tree.etag,
      filter,
    });
    expect(changed.etag).not.toBe(tree.etag);
  });

  it('reads nothing outside the configured directories, symbolic links included', async () => {
    const service = reader([root]);
    await expect(service.readUrl(url(outside, 'secret.yaml'))).rejects.toThrow(
      'outside chaos.experimentsAsCode.localDirectories',
    );
    await expect(
      service.readUrl(url(root, 'chaos', 'escape.yaml')),
    ).rejects.toThrow('outside chaos.experimentsAsCode.localDirectories');
    await expect(
      service.readUrl(url(root, 'chaos', 'missing.yaml')),
    ).rejects.toMatchObject({ name: 'NotFoundError' });
    // Without directories the reader is not registered at all: file: URLs are nobody's.
    await expect(
      reader([]).readUrl(url(root, 'chaos', 'a.yaml')),
    ).rejects.toThrow(/not allowed|no reader|Reading from/i);
  });
});
