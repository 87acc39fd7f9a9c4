import { ConfigReader } from '@backstage/config';
import { ClusterRegistry } from './ClusterRegistry';

describe('ClusterRegistry', () => {
  it('reads the Kubernetes plugin config when chaos.clusters is absent', () => {
    const registry = ClusterRegistry.fromConfig(
      new ConfigReader({
        kubernetes: {
          clusterLocatorMethods: [
            { type: 'catalog' },
            {
              type: 'config',
              clusters: [
                {
                  name: 'prod',
                  url: 'https://10.0.0.1',
                  serviceAccountToken: 't',
                  caData: 'Y2E=',
                },
                {
                  name: 'staging',
                  url: 'https://10.0.0.2',
                  skipTLSVerify: true,
                },
              ],
            },
          ],
        },
      }),
    );
    expect(registry.clusters.map(c => c.name)).toEqual(['prod', 'staging']);
    expect(registry.resolve(undefined).name).toBe('prod');
    expect(registry.resolve('staging')).toMatchObject({
      url: 'https://10.0.0.2',
      skipTLSVerify: true,
    });
    const kc = registry.kubeConfig(registry.resolve('prod'));
    expect(kc.getCurrentCluster()).toMatchObject({
      server: 'https://10.0.0.1',
      caData: 'Y2E=',
    });
    expect(kc.getCurrentUser()).toMatchObject({ token: 't' });
  });

  it('prefers chaos.clusters, and names what is wrong', () => {
    const registry = ClusterRegistry.fromConfig(
      new ConfigReader({
        chaos: { clusters: [{ name: 'sandbox', kubeconfigPath: '/nowhere' }] },
        kubernetes: {
          clusterLocatorMethods: [
            { type: 'config', clusters: [{ name: 'prod', url: 'https://x' }] },
          ],
        },
      }),
    );
    expect(registry.clusters.map(c => c.name)).toEqual(['sandbox']);
    expect(() => registry.resolve('prod')).toThrow(
      "chaoscraft.io/cluster names 'prod', which is not configured (known: sandbox)",
    );
    expect(() =>
      ClusterRegistry.fromConfig(new ConfigReader({})).resolve(undefined),
    ).toThrow('No cluster is configured');
  });
});
