/**
 * The steady-state hypothesis inside the real controller: ChaosRuns through the sandbox's API
 * server, an in-process controller with the default gate (ProbeHypothesisGate, k8s probes), and
 * Deployments whose minReadySeconds keep replacements unavailable, so a pod-kill shows as a dip
 * in the available ratio.
 */
import { AppsV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import { useSandboxNamespace, waitFor } from '@chaoscraft/test-sandbox';
import type { ChaosRunSpecInput } from '@chaoscraft/backstage-plugin-chaos-common';
import {
  applyCrds,
  createDeployment,
  createRun,
  getRun,
  OPT_IN,
  recordRunStatuses,
  RunningController,
  startController,
  targetPods,
  waitForRunPhase,
  watchPodDeletions,
  TEST_CEILINGS,
} from '@chaoscraft/agent-testkit';

jest.setTimeout(150_000);

/** Waits until the Deployment reports every replica available (minReadySeconds passed). */
async function waitAvailable(
  kc: KubeConfig,
  namespace: string,
  name: string,
  replicas: number,
): Promise<void> {
  const apps = kc.makeApiClient(AppsV1Api);
  const deadline = Date.now() + 60_000;
  while (
    (await apps.readNamespacedDeployment({ name, namespace })).status
      ?.availableReplicas !== replicas
  ) {
    if (Date.now() > deadline)
      throw new Error(`Deployment ${name} never became fully available`);
    await new Promise(resolve => setTimeout(resolve, 250));
  }
}

const k8sProbe = (deployment: string, minAvailableRatio: number) => ({
  interval: '500ms',
  failureThreshold: 1,
  recoveryTimeout: '40s',
  probes: [
    {
      type: 'k8s' as const,
      name: `${deployment}-available`,
      deployment,
      minAvailableRatio,
    },
  ],
});

describe('steady-state hypothesis in the controller, against the sandbox', () => {
  const target = useSandboxNamespace({ prefix: 'hyp-ctl', labels: OPT_IN });
  const agent = useSandboxNamespace({ prefix: 'agent' });
  let running: RunningController;
  /**
   * The Deployments whose minReadySeconds the tests wait out, created together up front so those
   * waits overlap instead of adding up (fragile's 30 s passes while the tests before it run).
   */
  const slowToBeAvailable = { web: 10, steady: 8, fragile: 30 };
  const podsAtStart = new Map<string, V1Pod[]>();

  beforeAll(async () => {
    await applyCrds(target.kc);
    running = await startController(target.kc, {
      agentNamespace: agent.namespace,
      watchNamespaces: [target.namespace],
      ceilings: TEST_CEILINGS,
    });
    await Promise.all(
      Object.entries(slowToBeAvailable).map(async ([name, minReadySeconds]) =>
        podsAtStart.set(
          name,
          await createDeployment(target.kc, target.namespace, name, 10, {
            minReadySeconds,
          }),
        ),
      ),
    );
  });
  afterAll(async () => {
    await running?.stop();
  });

  const spec = (
    app: string,
    extra: Partial<ChaosRunSpecInput>,
  ): ChaosRunSpecInput => ({
    target: { namespace: target.namespace, labelSelector: { app } },
    faults: [{ type: 'pod-kill', gracePeriodSeconds: 0 }],
    duration: '60s',
    ...extra,
  });

  it('aborts a pod-kill that takes too many replicas: the k8s probe sees the ratio dip', async () => {
    await waitAvailable(target.kc, target.namespace, 'web', 10);
    await createRun(
      target.kc,
      target.namespace,
      'too-many',
      spec('web', {
        target: {
          namespace: target.namespace,
          labelSelector: { app: 'web' },
          selection: { mode: 'percent', percent: 50 },
        },
        safety: {
          maxBlastRadiusPercent: 50,
          respectPodDisruptionBudgets: false,
        },
        hypothesis: k8sProbe('web', 0.9),
      }),
    );
    const done = await waitForRunPhase(
      target.kc,
      target.namespace,
      'too-many',
      ['Completed', 'Aborted', 'Failed'],
      90_000,
    );
    expect(done.status).toMatchObject({
      phase: 'Aborted',
      verdict: 'Failed',
      reason: 'HypothesisViolated',
    });
    expect(done.status!.message).toMatch(
      /^probe web-available \(k8s\) failed: 0\.\d+, must be >= 0\.9/,
    );
    expect(done.status!.message).toMatch(/steady state recovered/);
    // Failure threshold 1 at a 500 ms interval: the rollback follows the first violating sample.
    expect(done.status!.abortLatencyMs).toBeGreaterThanOrEqual(0);
    expect(done.status!.abortLatencyMs!).toBeLessThan(500 + 500);
    const [probe] = done.status!.probes;
    expect(probe).toMatchObject({
      name: 'web-available',
      type: 'k8s',
      verdict: 'Failed',
      comparison: '>=',
      threshold: 0.9,
    });
    expect(probe.samples[0]).toMatchObject({
      phase: 'before',
      ok: true,
      value: 1,
    });
    expect(
      probe.samples.some(
        s => s.phase === 'during' && !s.ok && (s.value ?? 1) < 0.9,
      ),
    ).toBe(true);
    expect(probe.samples[probe.samples.length - 1]).toMatchObject({
      phase: 'after',
      ok: true,
    });
    expect(done.status!.phaseTransitions.map(t => t.phase)).toEqual([
      'Preflight',
      'Injecting',
      'Running',
      'RollingBack',
      'Aborted',
    ]);
  });

  it('refuses at preflight when steady state does not hold, showing the value, and touches nothing', async () => {
    await createDeployment(target.kc, target.namespace, 'cold', 4, {
      minReadySeconds: 600,
    });
    const deletions = await watchPodDeletions(target.kc, target.namespace);
    try {
      await createRun(
        target.kc,
        target.namespace,
        'refused',
        spec('cold', {
          hypothesis: k8sProbe('cold', 0.5),
          safety: { maxBlastRadiusPercent: 25 },
        }),
      );
      const done = await waitForRunPhase(
        target.kc,
        target.namespace,
        'refused',
        ['Completed', 'Aborted', 'Failed'],
      );
      expect(done.status).toMatchObject({
        phase: 'Failed',
        verdict: 'Refused',
        reason: 'SteadyStateNotMet',
      });
      expect(done.status!.message).toBe(
        'steady state does not hold before injection: cold-available (k8s) = 0, must be >= 0.5',
      );
      expect(done.status!.probes[0]).toMatchObject({
        verdict: 'Failed',
        samples: [
          expect.objectContaining({ phase: 'before', ok: false, value: 0 }),
        ],
      });
      expect(done.status!.targets).toEqual([]);
      expect(deletions.deleted.size).toBe(0);
    } finally {
      deletions.stop();
    }
  });

  it('refuses a promql probe when the agent has no --prometheus-url', async () => {
    await createRun(
      target.kc,
      target.namespace,
      'no-prometheus',
      spec('cold', {
        safety: { maxBlastRadiusPercent: 25 },
        hypothesis: {
          probes: [
            {
              type: 'promql',
              name: 'error-rate',
              query: 'vector(0)',
              comparison: '<',
              threshold: 0.05,
            },
          ],
        },
      }),
    );
    const done = await waitForRunPhase(
      target.kc,
      target.namespace,
      'no-prometheus',
      ['Completed', 'Aborted', 'Failed'],
    );
    expect(done.status).toMatchObject({
      phase: 'Failed',
      verdict: 'Refused',
      reason: 'PrometheusNotConfigured',
    });
    expect(done.status!.message).toContain('--prometheus-url');
  });

  describe('progressive steps', () => {
    /**
     * Every step widened over pods that were there before the run, never over the replacement
     * of a pod it had killed (still inside minReadySeconds, so killing it would not widen the
     * dip), and each passed step's hold began once its targets were injected.
     */
    const expectWidenedOverOriginalPods = (
      done: Awaited<ReturnType<typeof waitForRunPhase>>,
      before: V1Pod[],
    ): void => {
      const original = new Set(before.map(pod => pod.metadata!.name!));
      expect(targetPods(done).filter(name => !original.has(name))).toEqual([]);
      for (const step of done.status!.steps.filter(
        s => s.result === 'Passed',
      )) {
        expect(Date.parse(step.injectedAt!)).toBeGreaterThanOrEqual(
          Date.parse(step.startedAt),
        );
        const injected = done
          .status!.targets.filter(t => t.injectedAt)
          .map(t => Date.parse(t.injectedAt!));
        expect(
          injected.filter(at => at <= Date.parse(step.injectedAt!)).length,
        ).toBeGreaterThanOrEqual(step.blastRadius.selected);
      }
    };

    const steps = [
      { selection: { mode: 'one' as const }, hold: '3s' },
      // Long enough that the k8s gate sees the dip even when the controller-manager lags on a
      // loaded machine; replacements stay unavailable for minReadySeconds (30 s) meanwhile.
      { selection: { mode: 'percent' as const, percent: 20 }, hold: '8s' },
      { selection: { mode: 'percent' as const, percent: 30 }, hold: '3s' },
    ];

    it('completes every step when every gate holds', async () => {
      const before = podsAtStart.get('steady')!;
      await waitAvailable(target.kc, target.namespace, 'steady', 10);
      const deletions = await watchPodDeletions(target.kc, target.namespace);
      const statuses = await recordRunStatuses(
        target.kc,
        target.namespace,
        'widening',
      );
      try {
        await createRun(
          target.kc,
          target.namespace,
          'widening',
          spec('steady', {
            safety: {
              maxBlastRadiusPercent: 30,
              respectPodDisruptionBudgets: false,
              progressiveSteps: steps,
            },
            hypothesis: k8sProbe('steady', 0.5),
          }),
        );
        const done = await waitForRunPhase(
          target.kc,
          target.namespace,
          'widening',
          ['Completed', 'Aborted', 'Failed'],
          90_000,
        );
        expect(done.status).toMatchObject({
          phase: 'Completed',
          verdict: 'Passed',
          reason: 'SteadyStateHeld',
        });
        expect(
          done.status!.steps.map(s => [
            s.index,
            s.result,
            s.blastRadius.selected,
            s.blastRadius.percent,
          ]),
        ).toEqual([
          [0, 'Passed', 1, 10],
          [1, 'Passed', 2, 20],
          [2, 'Passed', 3, 30],
        ]);
        expect(done.status!.targets).toHaveLength(3);
        expect(done.status!.probes[0]).toMatchObject({
          name: 'steady-available',
          verdict: 'Passed',
        });
        expect([...deletions.deleted].sort()).toEqual(targetPods(done));
        expectWidenedOverOriginalPods(done, before);
        // status.steps as every write left it: a widening passes the step before and starts its
        // own in one write, so no status ever shows a step passed without the next one begun.
        const published = statuses.seen
          .map(status =>
            (status.steps ?? []).map(step => step.result).join(','),
          )
          .filter(Boolean);
        expect(
          published.filter((results, i) => results !== published[i - 1]),
        ).toEqual([
          'Running',
          'Passed,Running',
          'Passed,Passed,Running',
          'Passed,Passed,Passed',
        ]);
      } finally {
        deletions.stop();
        statuses.stop();
      }
    });

    it('stops at the step whose gate fails', async () => {
      const before = podsAtStart.get('fragile')!;
      await waitAvailable(target.kc, target.namespace, 'fragile', 10);
      const deletions = await watchPodDeletions(target.kc, target.namespace);
      try {
        await createRun(
          target.kc,
          target.namespace,
          'breaks-at-two',
          spec('fragile', {
            safety: {
              maxBlastRadiusPercent: 30,
              respectPodDisruptionBudgets: false,
              progressiveSteps: steps,
            },
            hypothesis: k8sProbe('fragile', 0.85),
          }),
        );
        const done = await waitForRunPhase(
          target.kc,
          target.namespace,
          'breaks-at-two',
          ['Completed', 'Aborted', 'Failed'],
          90_000,
        );
        expect(done.status).toMatchObject({
          phase: 'Aborted',
          verdict: 'Failed',
          reason: 'ProgressiveStepFailed',
        });
        expect(done.status!.message).toMatch(
          /^progressive step 2 of 3 \(2 of 10 pods, 20%\) failed its gate: probe fragile-available \(k8s\) failed: 0\.\d+, must be >= 0\.85/,
        );
        expect(
          done.status!.steps.map(s => [
            s.index,
            s.result,
            s.blastRadius.selected,
          ]),
        ).toEqual([
          [0, 'Passed', 1],
          [1, 'Failed', 2],
        ]);
        expect(done.status!.abortLatencyMs).toBeGreaterThanOrEqual(0);
        expect([...deletions.deleted].sort()).toEqual(targetPods(done));
        expect(deletions.deleted.size).toBe(2);
        expectWidenedOverOriginalPods(done, before);
      } finally {
        deletions.stop();
      }
    });

    it('checks the cap again at each widening: a workload scaled down mid-run stops the run before it widens', async () => {
      await createDeployment(target.kc, target.namespace, 'shrinking', 10);
      // Creation times have whole seconds and a pod created in the run's first second counts as
      // new (a replacement): start the run in a later second than the pods.
      await new Promise(resolve => setTimeout(resolve, 1500));
      const apps = target.kc.makeApiClient(AppsV1Api);
      // Planned against 10 eligible pods: 1, then 3 (30%), within the 30% cap.
      await createRun(
        target.kc,
        target.namespace,
        'shrinks',
        spec('shrinking', {
          safety: {
            maxBlastRadiusPercent: 30,
            respectPodDisruptionBudgets: false,
            progressiveSteps: [
              { selection: { mode: 'one' }, hold: '8s' },
              { selection: { mode: 'percent', percent: 30 }, hold: '3s' },
            ],
          },
        }),
      );
      await waitFor(
        async () =>
          (
            await getRun(target.kc, target.namespace, 'shrinks')
          ).status?.steps?.[0]?.injectedAt,
        {
          timeoutMs: 30_000,
          description: 'step 1 injected',
        },
      );
      // During step 1's hold the workload shrinks to 4 pods: 3 of what is left is over 30%.
      const scale = await apps.readNamespacedDeploymentScale({
        name: 'shrinking',
        namespace: target.namespace,
      });
      await apps.replaceNamespacedDeploymentScale({
        name: 'shrinking',
        namespace: target.namespace,
        body: { ...scale, spec: { replicas: 4 } },
      });
      const done = await waitForRunPhase(
        target.kc,
        target.namespace,
        'shrinks',
        ['Completed', 'Aborted', 'Failed'],
        60_000,
      );
      expect(done.status).toMatchObject({
        phase: 'Aborted',
        reason: 'BlastRadiusExceeded',
      });
      expect(done.status!.message).toMatch(
        /^progressive step 2 of 2 \(3 of 10 pods, 30%\) not started: 3 of the [2-5] pods eligible now is \d+(\.\d+)?%, above the limit of 30% \(safety\.maxBlastRadiusPercent\)/,
      );
      expect(done.status!.steps.map(s => [s.index, s.result])).toEqual([
        [0, 'Passed'],
      ]);
      expect(done.status!.targets).toHaveLength(1);
      expect(done.status!.blastRadius).toMatchObject({
        selected: 1,
        eligible: 10,
      });
    });
  });
});
