/**
 * The k8s probe against a real control plane (the local sandbox: kube-apiserver, controllers,
 * scheduler, kwok nodes). Pods are deleted directly here, as a pod-kill run would; the
 * Deployment's minReadySeconds keeps their replacements unavailable for a while, so the dip in
 * the available ratio is there for the monitor to see. Runs with `make test-hypothesis`.
 */
import { hypothesisSchema } from '@chaoscraft/backstage-plugin-chaos-common';
import { useSandboxNamespace, waitFor } from '@chaoscraft/test-sandbox';
import { HypothesisMonitor } from '../hypothesis';

const enabled = process.env.CHAOSCRAFT_TESTBED === '1';
if (!enabled) {
  // eslint-disable-next-line no-console
  console.warn(
    'k8s probe sandbox test skipped: needs CHAOSCRAFT_TESTBED=1 (set by make test-hypothesis)',
  );
}

(enabled ? describe : describe.skip)('k8s probe on the sandbox', () => {
  const sandbox = useSandboxNamespace({ prefix: 'hypothesis-k8s' });
  const replicas = 4;

  beforeAll(async () => {
    await sandbox.apps.createNamespacedDeployment({
      namespace: sandbox.namespace,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas,
          minReadySeconds: 8,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: {
              containers: [{ name: 'web', image: 'chaoscraft-demo/web:1' }],
              // kwok's fake nodes carry this taint; the pods must land there.
              tolerations: [
                {
                  key: 'kwok.x-k8s.io/node',
                  operator: 'Exists',
                  effect: 'NoSchedule',
                },
              ],
            },
          },
        },
      },
    });
    await waitFor(
      async () => {
        const d = await sandbox.apps.readNamespacedDeployment({
          name: 'web',
          namespace: sandbox.namespace,
        });
        return d.status?.availableReplicas === replicas;
      },
      {
        timeoutMs: 90_000,
        description: 'every replica of web to be available',
      },
    );
  }, 120_000);

  it('sees the available ratio dip below the bound when too many replicas are killed, and signals abort', async () => {
    const monitor = new HypothesisMonitor({
      hypothesis: hypothesisSchema.parse({
        interval: '500ms',
        failureThreshold: 2,
        recoveryTimeout: '60s',
        probes: [
          {
            type: 'k8s',
            name: 'web-available',
            deployment: 'web',
            minAvailableRatio: 0.75,
          },
        ],
      }),
      context: { namespace: sandbox.namespace, apps: sandbox.apps },
    });

    const before = await monitor.checkBefore();
    expect(before).toMatchObject({ holds: true });
    expect(monitor.results()[0].samples[0]).toMatchObject({
      phase: 'before',
      ok: true,
      value: 1,
    });

    const watch = monitor.watch();
    try {
      // Kill half the replicas: 2 of 4 available is 0.5, below 0.75.
      const pods = await sandbox.core.listNamespacedPod({
        namespace: sandbox.namespace,
        labelSelector: 'app=web',
      });
      await Promise.all(
        pods.items.slice(0, 2).map(pod =>
          sandbox.core.deleteNamespacedPod({
            name: pod.metadata!.name!,
            namespace: sandbox.namespace,
            gracePeriodSeconds: 0,
          }),
        ),
      );
      const violation = await Promise.race([
        watch.violation,
        new Promise<undefined>(resolve => setTimeout(resolve, 30_000)),
      ]);
      expect(violation).toMatchObject({
        probe: 'web-available',
        type: 'k8s',
        comparison: '>=',
        threshold: 0.75,
      });
      expect(violation!.value).toBeLessThan(0.75);
      expect(violation!.message).toMatch(
        /^probe web-available \(k8s\) failed: 0(\.\d+)?, must be >= 0\.75/,
      );
    } finally {
      await watch.stop();
    }

    // The ReplicaSet replaces the pods; after minReadySeconds the ratio is whole again.
    const recovery = await monitor.awaitRecovery();
    expect(recovery.holds).toBe(true);
    expect(
      monitor.conclude(
        { kind: 'violated', violation: monitor.violation! },
        recovery,
      ),
    ).toMatchObject({
      verdict: 'Failed',
      reason: 'HypothesisViolated',
    });
  }, 120_000);

  it('reports a missing Deployment as an error sample that names it', async () => {
    const monitor = new HypothesisMonitor({
      hypothesis: hypothesisSchema.parse({
        probes: [
          {
            type: 'k8s',
            name: 'ghost',
            deployment: 'does-not-exist',
            minAvailableRatio: 1,
          },
        ],
      }),
      context: { namespace: sandbox.namespace, apps: sandbox.apps },
    });
    const before = await monitor.checkBefore();
    expect(before.holds).toBe(false);
    expect(before.message).toBe(
      `steady state does not hold before injection: ghost (k8s), must be >= 1: Deployment ${sandbox.namespace}/does-not-exist not found`,
    );
  }, 30_000);
});
