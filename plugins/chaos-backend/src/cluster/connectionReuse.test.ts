/**
 * The backend's cluster access reuses connections: every ChaosRunGateway made for a cluster
 * shares that cluster's pool. Counted by a relay in front of the sandbox's API server.
 */
import { ConfigReader } from '@backstage/config';
import {
  ConnectionCounter,
  sandboxKubeconfigPath,
  startConnectionCounter,
} from '@chaoscraft/test-sandbox';
import { ChaosRunGateway } from './ChaosRunGateway';
import { ClusterRegistry } from './ClusterRegistry';

jest.setTimeout(60_000);

describe('ClusterRegistry on the sandbox', () => {
  let relay: ConnectionCounter;
  let registry: ClusterRegistry;

  beforeEach(async () => {
    relay = await startConnectionCounter(await sandboxKubeconfigPath());
    registry = ClusterRegistry.fromConfig(
      new ConfigReader({
        chaos: {
          clusters: [{ name: 'sandbox', kubeconfigPath: relay.kubeconfigPath }],
        },
      }),
    );
  });
  afterEach(async () => {
    await registry.close();
    await relay.close();
  });

  it('opens one connection for many calls through many gateways', async () => {
    const cluster = registry.resolve('sandbox');
    for (let i = 0; i < 5; i++) {
      // A gateway per call, as the router and the mirror make them; the run does not exist.
      const gateway = new ChaosRunGateway(registry.kubeConfig(cluster));
      expect(await gateway.get('default', `absent-${i}`)).toBeUndefined();
    }
    expect(relay.connections).toBe(1);
  });
});
