import { ConfigReader } from '@backstage/config';
import { ScmIntegrations } from '@backstage/integration';
import type { Entity } from '@backstage/catalog-model';
import {
  isFileLocation,
  resolveExperimentsLocation,
} from './experimentsLocation';

const integrations = ScmIntegrations.fromConfig(new ConfigReader({}));

function entity(location: string | undefined, managedBy?: string): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name: 'checkout',
      annotations: {
        ...(location !== undefined
          ? { 'chaoscraft.io/experiments-location': location }
          : {}),
        ...(managedBy ? { 'backstage.io/managed-by-location': managedBy } : {}),
      },
    },
  };
}

describe('resolveExperimentsLocation', () => {
  it('resolves relative paths next to the file that defines the entity', () => {
    expect(
      resolveExperimentsLocation(
        entity('./chaos/', 'file:/srv/repo/catalog-info.yaml'),
        integrations,
      ),
    ).toEqual({ url: 'file:///srv/repo/chaos' });
    expect(
      resolveExperimentsLocation(
        entity('chaos/kill.yaml', 'file:/srv/repo/catalog-info.yaml'),
        integrations,
      ),
    ).toEqual({ url: 'file:///srv/repo/chaos/kill.yaml' });
    expect(
      resolveExperimentsLocation(
        entity(
          './chaos/',
          'url:https://github.com/acme/shop/blob/main/catalog-info.yaml',
        ),
        integrations,
      ),
      // GitHub's integration names a directory with tree/.
    ).toEqual({ url: 'https://github.com/acme/shop/tree/main/chaos/' });
  });

  it('takes url:, file: and absolute URLs as they are', () => {
    expect(
      resolveExperimentsLocation(
        entity('url:https://git.example/x/chaos.yaml'),
        integrations,
      ),
    ).toEqual({ url: 'https://git.example/x/chaos.yaml' });
    expect(
      resolveExperimentsLocation(
        entity('https://git.example/x/'),
        integrations,
      ),
    ).toEqual({ url: 'https://git.example/x/' });
    expect(
      resolveExperimentsLocation(entity('file:/abs/chaos'), integrations),
    ).toEqual({ url: 'file:///abs/chaos' });
  });

  it('says what is wrong with a location it cannot resolve', () => {
    expect(
      resolveExperimentsLocation(entity(undefined), integrations).problem,
    ).toContain('has no such annotation');
    expect(
      resolveExperimentsLocation(entity('./chaos/'), integrations).problem,
    ).toContain('no backstage.io/managed-by-location');
    expect(
      resolveExperimentsLocation(entity('url:ftp://x/y'), integrations).problem,
    ).toContain('absolute http(s) URL');
    expect(
      resolveExperimentsLocation(entity('s3:bucket/x'), integrations).problem,
    ).toContain("'s3:' is not a location type");
    expect(
      resolveExperimentsLocation(
        entity('./x', 'bitbucket-magic:foo'),
        integrations,
      ).problem,
    ).toContain("'bitbucket-magic' location");
  });

  it('tells a file from a directory', () => {
    expect(isFileLocation('file:///a/b.yaml')).toBe(true);
    expect(isFileLocation('https://h/a/b.YML?ref=main')).toBe(true);
    expect(isFileLocation('https://h/a/chaos/')).toBe(false);
  });
});
