/**
 * The steady-state hypothesis through the shipped path, against real components at every
 * boundary: ChaosRuns in the sandbox's API server; the real controller (ChaosController,
 * in-process) whose default gate asks a real Prometheus (Debian package) that scrapes a real load
 * generator; the real node daemon (in-process, static netns resolver) applying real packet loss
 * and partitions (iptables) inside the network namespace of the test bed's demo service, which
 * stands in for the target pod. `make test-hypothesis` runs them (CHAOSCRAFT_TESTBED=1); they
 * need root and /usr/bin/prometheus. See docs/hypothesis.md.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type {
  ChaosRunSpecInput,
  ProbeResult,
  TargetRecord,
} from '@chaoscraft/backstage-plugin-chaos-common';
import {
  sandboxKubeconfigPath,
  useSandboxNamespace,
  waitFor,
} from '@chaoscraft/test-sandbox';
import {
  startTestbed,
  type Testbed,
  PROMETHEUS_BIN,
  applyCrds,
  createPodsOnNode,
  createRun,
  getRun,
  OPT_IN,
  recordRunStatuses,
  startController,
  startNodeDaemon,
  waitForRunPhase,
  type ChaosRunObject,
  type InProcessNodeDaemon,
  type RunningController,
  NetnsLab,
  netnsUnavailableReason,
  TEST_CEILINGS,
} from '@chaoscraft/agent-testkit';

const missing = [
  process.env.CHAOSCRAFT_TESTBED !== '1' &&
    'CHAOSCRAFT_TESTBED=1 (set by make test-hypothesis)',
  netnsUnavailableReason(),
  !existsSync(PROMETHEUS_BIN) &&
    `${PROMETHEUS_BIN} (Debian package prometheus)`,
].filter(Boolean);
const describeTestbed = missing.length === 0 ? describe : describe.skip;
if (missing.length > 0) {
  // eslint-disable-next-line no-console
  console.warn(
    `hypothesis acceptance tests skipped: needs ${missing.join(', ')}`,
  );
}
jest.setTimeout(120_000);

/** Every pod of these tests sits on this kwok node, whose node daemon runs in this process. */
const NODE = 'kwok-node-0';
const WEB_PODS = Array.from(
  { length: 20 },
  (_, i) => `web-${String(i).padStart(2, '0')}`,
);

/** Lines of our iptables chains (CHAOS-...) left in a network namespace. */
function chaosRules(netnsPath: string): string[] {
  const saved = spawnSync(
    'nsenter',
    [`--net=${netnsPath}`, '--', 'iptables-save'],
    { encoding: 'utf8' },
  );
  if (saved.status !== 0)
    throw new Error(`iptables-save in ${netnsPath} failed: ${saved.stderr}`);
  return saved.stdout.split('\n').filter(line => line.includes('CHAOS-'));
}

const terminal = ['Completed', 'Aborted', 'Failed'] as const;

describeTestbed(
  'steady-state hypothesis through the controller and the node daemon, against the test bed',
  () => {
    const target = useSandboxNamespace({ prefix: 'hyp-bed', labels: OPT_IN });
    const agent = useSandboxNamespace({ prefix: 'hyp-agent' });
    let testbed: Testbed;
    let lab: NetnsLab;
    let dir: string;
    let daemon: InProcessNodeDaemon;
    let controller: RunningController;

    beforeAll(async () => {
      testbed = await startTestbed({
        rate: 50,
        loadDurationS: 300,
        requestTimeoutMs: 500,
      });
      lab = NetnsLab.create(`cc-hyp-${process.pid}`);
      dir = mkdtempSync(path.join(os.tmpdir(), 'cc-hyp-'));
      await applyCrds(target.kc);
      await createPodsOnNode(
        target.kc,
        target.namespace,
        ['demo'],
        { app: 'demo' },
        NODE,
      );
      await createPodsOnNode(
        target.kc,
        target.namespace,
        WEB_PODS,
        { app: 'web' },
        NODE,
      );
      daemon = await startNodeDaemon({
        kubeconfigPath: await sandboxKubeconfigPath(),
        nodeName: NODE,
        agentNamespace: agent.namespace,
        dir,
      });
      // The demo service's namespace is the demo pod's; every web pod starts in the lab's pod a.
      daemon.mapPod(target.namespace, 'demo', testbed.netns.path);
      for (const pod of WEB_PODS)
        daemon.mapPod(target.namespace, pod, lab.pods.a.path);
      controller = await startController(target.kc, {
        ceilings: TEST_CEILINGS,
        agentNamespace: agent.namespace,
        watchNamespaces: [target.namespace],
        prometheusUrl: testbed.prometheusUrl,
        rollbackTimeoutMs: 20_000,
      });
      // Creation times have whole seconds; runs must start in a later second than their pods.
      await new Promise(resolve => setTimeout(resolve, 1100));
    }, 120_000);

    afterAll(async () => {
      await controller?.stop();
      await daemon?.stop();
      lab?.destroy();
      if (testbed) {
        if (testbed.faults.notes.length > 0) {
          // eslint-disable-next-line no-console
          console.warn(`test bed notes:\n${testbed.faults.notes.join('\n')}`);
        }
        await testbed.stop();
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    afterEach(async () => {
      // Whatever a test did, the next one starts from a healthy service.
      await testbed.faults.revertAll();
      await testbed.waitForErrorRate(
        rate => rate < 0.05,
        'back below 5% between tests',
        30_000,
      );
    }, 40_000);

    const errorRateHypothesis = (): ChaosRunSpecInput['hypothesis'] => ({
      interval: '1s',
      failureThreshold: 2,
      recoveryTimeout: '30s',
      probes: [
        {
          type: 'promql',
          name: 'error-rate',
          query: testbed.errorRateQuery,
          comparison: '<',
          threshold: 0.05,
        },
      ],
    });

    const demoRun = (
      faults: ChaosRunSpecInput['faults'],
    ): ChaosRunSpecInput => ({
      target: {
        namespace: target.namespace,
        labelSelector: { app: 'demo' },
        selection: { mode: 'one' },
      },
      faults,
      duration: '60s',
      safety: { maxBlastRadiusPercent: 100 },
      hypothesis: errorRateHypothesis(),
    });

    /** Nothing of ours is left: no rule in the demo's or the lab's namespace, nothing in the ledger. */
    const expectNothingLeft = async (): Promise<void> => {
      expect(chaosRules(testbed.netns.path)).toEqual([]);
      expect(lab.leftovers('a').iptables).toEqual([]);
      expect(await daemon.held()).toBe(0);
    };

    it('aborts when the error rate Prometheus sees rises above 5% under packet loss, rolls back, and sees it recover', async () => {
      const writes = await recordRunStatuses(
        target.kc,
        target.namespace,
        'lossy',
      );
      await createRun(
        target.kc,
        target.namespace,
        'lossy',
        demoRun([
          { type: 'network-loss', lossPercent: 40, correlationPercent: 0 },
        ]),
      );
      const done = await waitForRunPhase(
        target.kc,
        target.namespace,
        'lossy',
        [...terminal],
        90_000,
      );
      writes.stop();
      const status = done.status!;

      expect(status).toMatchObject({
        phase: 'Aborted',
        verdict: 'Failed',
        reason: 'HypothesisViolated',
      });
      expect(status.phaseTransitions.map(t => t.phase)).toEqual([
        'Preflight',
        'Injecting',
        'Running',
        'RollingBack',
        'Aborted',
      ]);
      // Status is written when something changed (a phase, a record, new samples) or the heartbeat
      // is due: about once a probe interval (1 s here) while Running, never on every reconcile,
      // which loops on its own writes (59 writes in this run when it did, and the daemon's record
      // writes kept conflicting with them; 12 to 17 since, ~10 of them phases and records).
      const at = (phase: string): number =>
        Date.parse(status.phaseTransitions.find(t => t.phase === phase)!.time);
      const runningS = (at('RollingBack') - at('Running')) / 1000;
      expect(writes.seen.length).toBeLessThanOrEqual(12 + 3 * runningS);
      expect(status.message).toMatch(
        /^probe error-rate \(promql\) failed: 0\.\d+, must be < 0\.05 \(2 consecutive failed checks\); steady state recovered .* after rollback$/,
      );
      // The node daemon applied the loss and reverted it.
      expect(status.targets).toHaveLength(1);
      expect(status.targets[0]).toMatchObject({
        pod: 'demo',
        node: NODE,
        fault: 'network-loss',
        phase: 'Recovered',
      });
      expect(status.targets[0].injectedAt).toBeDefined();
      expect(Date.parse(status.targets[0].recoveredAt!)).toBeGreaterThanOrEqual(
        Date.parse(status.targets[0].injectedAt!),
      );
      await expectNothingLeft();
      // Failure streak of 2 at a 1 s interval: the second failing sample one interval after the
      // first, the controller's decision within 500 ms of it, and the abort latency one interval
      // plus the rollback through the API server and the node daemon. That rollback is ~150 ms
      // (bench-abort's figures) but took 593 ms at load average 8 and 1.2 s at 14 on two cores,
      // so the bound here is loose; bench-abort holds the target of interval + 500 ms.
      const failing = status.probes[0].samples
        .filter(s => s.phase === 'during' && !s.ok)
        .map(s => Date.parse(s.time));
      const rollingBackAt = Date.parse(
        status.phaseTransitions.find(t => t.phase === 'RollingBack')!.time,
      );
      expect(failing[1] - failing[0]).toBeLessThanOrEqual(1000 + 250);
      expect(rollingBackAt - failing[1]).toBeLessThan(500);
      expect(status.abortLatencyMs).toBeGreaterThanOrEqual(
        failing[1] - failing[0],
      );
      expect(status.abortLatencyMs!).toBeLessThan(1000 + 1500);

      const [probe] = status.probes;
      expect(probe).toMatchObject({
        name: 'error-rate',
        type: 'promql',
        verdict: 'Failed',
        comparison: '<',
        threshold: 0.05,
      });
      const phases = probe.samples.map(s => s.phase);
      expect(phases[0]).toBe('before');
      expect(phases).toContain('during');
      expect(phases[phases.length - 1]).toBe('after');
      const failed = probe.samples.filter(s => s.phase === 'during' && !s.ok);
      expect(failed.length).toBeGreaterThanOrEqual(2);
      expect(failed.every(s => (s.value ?? 0) > 0.05)).toBe(true);
      // The recovery the run reports is real: Prometheus sees the error rate under 5% now.
      expect(probe.samples[probe.samples.length - 1]).toMatchObject({
        phase: 'after',
        ok: true,
      });
      expect(await testbed.errorRate()).toBeLessThan(0.05);
    });

    it('refuses a run whose steady state does not hold before it starts, showing the values, and injects nothing', async () => {
      await testbed.faults.apply({
        type: 'network-partition',
        device: 'eth0',
        direction: 'both',
      });
      await testbed.waitForErrorRate(
        rate => rate > 0.5,
        'above 50% under a partition',
      );
      await createRun(
        target.kc,
        target.namespace,
        'refused',
        demoRun([
          { type: 'network-loss', lossPercent: 40, correlationPercent: 0 },
        ]),
      );
      const done = await waitForRunPhase(
        target.kc,
        target.namespace,
        'refused',
        [...terminal],
      );
      const status = done.status!;

      expect(status).toMatchObject({
        phase: 'Failed',
        verdict: 'Refused',
        reason: 'SteadyStateNotMet',
      });
      expect(status.message).toMatch(
        /^steady state does not hold before injection: error-rate \(promql\) = (1|0\.\d+), must be < 0\.05$/,
      );
      expect(status.probes[0].samples).toEqual([
        expect.objectContaining({
          phase: 'before',
          ok: false,
          value: expect.any(Number),
        }),
      ]);
      expect(status.probes[0].verdict).toBe('Failed');
      expect(status.targets).toEqual([]);
      expect(await daemon.held()).toBe(0);
    });

    describe('progressive steps, with an http probe against the demo service as the gate', () => {
      // 1 s per request: a partitioned service never answers, a merely slow machine (the demo
      // service starved of CPU at load average 14 answered in over 300 ms) does.
      const httpGate = (url: string): ChaosRunSpecInput['hypothesis'] => ({
        interval: '500ms',
        failureThreshold: 2,
        recoveryTimeout: '20s',
        probes: [
          {
            type: 'http',
            name: 'demo-home',
            url,
            expectedStatus: 200,
            maxLatencyMs: 1000,
            requests: 10,
            minSuccessRatio: 0.9,
          },
        ],
      });

      /** The network records of one step: those whose pods the step's blast radius added. */
      const injectedAtOfStep = (
        run: ChaosRunObject,
        selected: number,
      ): number[] =>
        run
          .status!.targets.slice(0, selected)
          .map((record: TargetRecord) => Date.parse(record.injectedAt!));

      it("stops at the first failing gate: the node daemon partitions each step's pods, the service breaks at step 2", async () => {
        // 1 pod, then 10%, then 20% of 20 eligible pods, under a 25% cap. Step 2 holds long enough
        // for two failed rounds of 10 requests cut off at 1 s, 5 at a time (about 4 s).
        await createRun(target.kc, target.namespace, 'widening', {
          target: {
            namespace: target.namespace,
            labelSelector: { app: 'web' },
          },
          faults: [{ type: 'network-partition', direction: 'both' }],
          duration: '60s',
          safety: {
            maxBlastRadiusPercent: 25,
            progressiveSteps: [
              { selection: { mode: 'one' }, hold: '3s' },
              { selection: { mode: 'percent', percent: 10 }, hold: '8s' },
              { selection: { mode: 'percent', percent: 20 }, hold: '3s' },
            ],
          },
          hypothesis: httpGate(testbed.serviceUrl),
        });
        // Step 1 partitions its pod inside the lab; once it is in, every pod not yet targeted stands
        // for the demo service, so the pod step 2 adds cuts the service off.
        const first = await waitFor(
          async () => {
            const run = await getRun(target.kc, target.namespace, 'widening');
            return run.status?.steps?.[0]?.injectedAt ? run : undefined;
          },
          { timeoutMs: 30_000, description: 'step 1 injected' },
        );
        const firstPod = first.status!.targets[0].pod;
        expect(first.status!.targets[0]).toMatchObject({
          node: NODE,
          phase: 'Injected',
        });
        expect(lab.leftovers('a').iptables.length).toBeGreaterThan(0);
        for (const pod of WEB_PODS.filter(name => name !== firstPod))
          daemon.mapPod(target.namespace, pod, testbed.netns.path);

        const done = await waitForRunPhase(
          target.kc,
          target.namespace,
          'widening',
          [...terminal],
          90_000,
        );
        const status = done.status!;

        expect(status).toMatchObject({
          phase: 'Aborted',
          verdict: 'Failed',
          reason: 'ProgressiveStepFailed',
        });
        expect(status.message).toMatch(
          /^progressive step 2 of 3 \(2 of 20 pods, 10%\) failed its gate: probe demo-home \(http\) failed: 0(\.\d+)?, must be >= 0\.9 \(\d+ of 10 requests failed: .*timeout after 1000 ms.*\)/,
        );
        expect(status.message).toMatch(
          /steady state recovered .* after rollback$/,
        );
        expect(
          status.steps.map(s => [
            s.index,
            s.result,
            s.blastRadius.selected,
            s.blastRadius.percent,
          ]),
        ).toEqual([
          [0, 'Passed', 1, 5],
          [1, 'Failed', 2, 10],
        ]);
        // Widened to 2 pods, never to 4; the daemon acted on both and reverted both.
        expect(status.targets.map(t => [t.node, t.fault, t.phase])).toEqual([
          [NODE, 'network-partition', 'Recovered'],
          [NODE, 'network-partition', 'Recovered'],
        ]);
        // Each step's hold began once the daemon reported its pods' faults in.
        for (const step of status.steps) {
          for (const injectedAt of injectedAtOfStep(
            done,
            step.blastRadius.selected,
          )) {
            expect(Date.parse(step.injectedAt!)).toBeGreaterThanOrEqual(
              injectedAt,
            );
          }
        }
        const [probe]: ProbeResult[] = status.probes;
        expect(probe).toMatchObject({
          name: 'demo-home',
          type: 'http',
          verdict: 'Failed',
          comparison: '>=',
          threshold: 0.9,
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
        await expectNothingLeft();
      });
    });
  },
);
