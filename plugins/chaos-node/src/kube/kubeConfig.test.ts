/**
 * KeepAliveKubeConfig against the sandbox's API server, through a relay that counts the TCP
 * connections the server accepts: sequential calls share one connection, another user gets a
 * pool of its own, and an exec-plugin user is never shared. With a rate limit, real API calls
 * wait for the bucket's tokens, and a sibling with its own bucket does not. Closing lets a call in
 * flight finish and aborts a watch left open once the grace is over.
 */
import {
  CoreV1Api,
  KubeConfig,
  RequestContext,
  Watch,
} from '@kubernetes/client-node';
import {
  ConnectionCounter,
  sandboxKubeconfigPath,
  startConnectionCounter,
} from '@chaoscraft/test-sandbox';
import { KeepAliveKubeConfig, loadKubeConfig } from './kubeConfig';

jest.setTimeout(60_000);

/** The dispatcher the config hands a request. */
async function dispatcherOf(kc: KubeConfig) {
  const context = new RequestContext(
    `${kc.getCurrentCluster()!.server}/api`,
    'GET' as never,
  );
  await kc.applySecurityAuthentication(context);
  return context.getDispatcher()!;
}

describe('KeepAliveKubeConfig on the sandbox', () => {
  let relay: ConnectionCounter;
  const configs: KeepAliveKubeConfig[] = [];
  const load = () => {
    const kc = loadKubeConfig(relay.kubeconfigPath);
    configs.push(kc);
    return kc;
  };

  beforeEach(async () => {
    relay = await startConnectionCounter(await sandboxKubeconfigPath());
  });
  afterEach(async () => {
    await Promise.all(configs.splice(0).map(kc => kc.close()));
    await relay.close();
  });

  it('sends sequential API calls over one connection', async () => {
    const kc = load();
    const core = kc.makeApiClient(CoreV1Api);
    for (let i = 0; i < 5; i++) {
      expect(
        (await core.readNamespace({ name: 'default' })).metadata?.name,
      ).toBe('default');
    }
    // A second API client made from the same config shares the pool too.
    await kc.makeApiClient(CoreV1Api).readNamespace({ name: 'default' });
    expect(relay.connections).toBe(1);
    expect(await dispatcherOf(kc)).toBe(await dispatcherOf(kc));
  });

  it('opens a connection per call without it (what the relay counts is real)', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(relay.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    for (let i = 0; i < 3; i++) await core.readNamespace({ name: 'default' });
    expect(relay.connections).toBe(3);
  });

  it('gives another user a pool of its own', async () => {
    const kc = load();
    const first = await dispatcherOf(kc);
    await kc.makeApiClient(CoreV1Api).readNamespace({ name: 'default' });
    // The same credentials under another user name: a different key, so another pool.
    const user = kc.getCurrentUser()!;
    kc.users = [...kc.users, { ...user, name: `${user.name}-other` }];
    kc.contexts = kc.contexts.map(c =>
      c.name === kc.currentContext ? { ...c, user: `${user.name}-other` } : c,
    );
    expect(await dispatcherOf(kc)).not.toBe(first);
    await kc.makeApiClient(CoreV1Api).readNamespace({ name: 'default' });
    await kc.makeApiClient(CoreV1Api).readNamespace({ name: 'default' });
    expect(relay.connections).toBe(2);
  });

  it('does not share the pool of a user with an exec credential plugin', async () => {
    const kc = load();
    const user = kc.getCurrentUser()!;
    // The plugin only prints the certificate the kubeconfig already has, so calls still work.
    const credential = JSON.stringify({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: {
        clientCertificateData: Buffer.from(user.certData!, 'base64').toString(),
        clientKeyData: Buffer.from(user.keyData!, 'base64').toString(),
      },
    });
    kc.users = kc.users.map(u =>
      u.name === user.name
        ? {
            ...u,
            exec: {
              apiVersion: 'client.authentication.k8s.io/v1',
              command: 'printf',
              args: ['%s', credential],
              interactiveMode: 'Never',
            },
          }
        : u,
    );
    expect(await dispatcherOf(kc)).not.toBe(await dispatcherOf(kc));
    const core = kc.makeApiClient(CoreV1Api);
    expect((await core.readNamespace({ name: 'default' })).metadata?.name).toBe(
      'default',
    );
    await core.readNamespace({ name: 'default' });
    expect(relay.connections).toBe(2);
  });

  it('spaces API calls beyond the burst 1/qps apart, and a sibling has a bucket of its own', async () => {
    const kc = loadKubeConfig(relay.kubeconfigPath, {
      rateLimit: { qps: 10, burst: 2 },
    });
    configs.push(kc);
    const core = kc.makeApiClient(CoreV1Api);
    // The bucket starts full: the burst goes at once; the next 5 calls need 5 tokens at 10/s.
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 7 }, () => core.readNamespace({ name: 'default' })),
    );
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(kc.throttle!.stats().waits).toBe(5);
    // The sibling shares the connections but not the (now empty) bucket: its burst goes at once.
    const sibling = kc.withOwnRateLimit();
    await Promise.all(
      Array.from({ length: 2 }, () =>
        sibling.makeApiClient(CoreV1Api).readNamespace({ name: 'default' }),
      ),
    );
    expect(sibling.throttle!.stats().waits).toBe(0);
    expect(await dispatcherOf(sibling)).toBe(await dispatcherOf(kc));
  });

  it('lets a request in flight finish on close, and ends a watch left open after the grace', async () => {
    const kc = load();
    const core = kc.makeApiClient(CoreV1Api);
    await core.readNamespace({ name: 'default' });
    let watchEnded: (error: unknown) => void = () => undefined;
    const ended = new Promise(resolve => {
      watchEnded = resolve;
    });
    await new Watch(kc).watch(
      '/api/v1/namespaces',
      {},
      () => undefined,
      error => watchEnded(error),
    );
    const inFlight = core.readNamespace({ name: 'default' });
    const started = performance.now();
    await kc.close(300);
    const closedAfter = performance.now() - started;
    // The call made before close() got its answer within the grace.
    expect((await inFlight).metadata?.name).toBe('default');
    // The watch does not end by itself before client-node's 30 s timeout: it was aborted.
    await ended;
    const endedAfter = performance.now() - started;
    expect(closedAfter).toBeGreaterThanOrEqual(300);
    expect(endedAfter).toBeLessThan(10_000);
  });
});
