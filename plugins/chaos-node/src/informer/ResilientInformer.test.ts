/**
 * The informer against the sandbox's API server: a quiet watch is not a failed one. client-node
 * aborts a watch after 30 s without data; the informer must not take that for an error (backoff,
 * a gap in which changes arrive late), and must deliver a change made after a quiet spell at once.
 */
import { CoreV1Api, V1ConfigMap } from '@kubernetes/client-node';
import { useSandboxNamespace, waitFor } from '@chaoscraft/test-sandbox';
import { ResilientInformer } from './ResilientInformer';

jest.setTimeout(120_000);

const sandbox = useSandboxNamespace();

describe('ResilientInformer on the sandbox', () => {
  it('keeps a quiet watch open past 30 s, without errors, and delivers the next change at once', async () => {
    const core = sandbox.kc.makeApiClient(CoreV1Api);
    const namespace = sandbox.namespace;
    const seen: Array<{ event: string; name: string; at: number }> = [];
    const errors: unknown[] = [];
    const informer = new ResilientInformer<V1ConfigMap>({
      kc: sandbox.kc,
      path: `/api/v1/namespaces/${namespace}/configmaps`,
      labelSelector: 'informer-test',
      list: async () => {
        const list = await core.listNamespacedConfigMap({
          namespace,
          labelSelector: 'informer-test',
        });
        return {
          items: list.items,
          resourceVersion: list.metadata?.resourceVersion,
        };
      },
      relistPeriodMs: 90_000,
      onEvent: (event, item) =>
        seen.push({ event, name: item.metadata!.name!, at: Date.now() }),
      onError: error => errors.push(error),
    });
    informer.start();
    try {
      await waitFor(() => informer.live, {
        timeoutMs: 20_000,
        description: 'the informer watching',
      });
      // Quiet for longer than client-node's 30 s inactivity timeout.
      await new Promise(resolve => setTimeout(resolve, 36_000));
      expect(errors).toEqual([]);
      const created = Date.now();
      await core.createNamespacedConfigMap({
        namespace,
        body: {
          metadata: { name: 'after-quiet', labels: { 'informer-test': 'yes' } },
          data: { a: 'b' },
        },
      });
      const event = await waitFor(
        () => seen.find(e => e.name === 'after-quiet'),
        { timeoutMs: 10_000, description: 'the add event' },
      );
      expect(event.event).toBe('add');
      expect(event.at - created).toBeLessThan(2000);
      expect(errors).toEqual([]);
    } finally {
      await informer.stop();
    }
  });
});
