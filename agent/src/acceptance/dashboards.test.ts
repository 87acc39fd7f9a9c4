/**
 * The Grafana dashboards (infra/observability/dashboards) against a real Prometheus (Debian
 * package) that scraped a real controller while it ran real ChaosRuns on the sandbox: one
 * completed pod-kill, one a PodDisruptionBudget blocked, one the hypothesis aborted, one aborted
 * on request. Every panel's query must parse and return data; a few must show what the runs did.
 * Prints `dashboards: N panels, N queries with data`, and renders one panel to a PNG (the
 * README's image comes from there). Needs CHAOSCRAFT_TESTBED=1 (make test sets it), Prometheus
 * and Chromium (scripts/system-deps.sh).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppsV1Api, KubeConfig } from '@kubernetes/client-node';
import { useSandboxNamespace, waitFor } from '@chaoscraft/test-sandbox';
import { ChaosRunClient } from '@chaoscraft/backstage-plugin-chaos-node';
import type { ChaosRunSpecInput } from '@chaoscraft/backstage-plugin-chaos-common';
// infra/ holds test tooling run from the source tree, not workspace packages.
// eslint-disable-next-line @backstage/no-relative-monorepo-imports
import {
  startPrometheus,
  type TestPrometheus,
  applyCrds,
  createDeployment,
  createRun,
  OPT_IN,
  RunningController,
  startController,
  waitForRunPhase,
} from '@chaoscraft/agent-testkit';
// eslint-disable-next-line @backstage/no-relative-monorepo-imports
import {
  evaluateDashboard,
  legend,
  loadDashboards,
  variableValues,
  type QueryResult,
  type Window,
} from '../../../infra/observability/dashboards';
// eslint-disable-next-line @backstage/no-relative-monorepo-imports
import { renderPanelPng } from '../../../infra/observability/renderPanel';

jest.setTimeout(240_000);

const describeTestbed =
  process.env.CHAOSCRAFT_TESTBED === '1' ? describe : describe.skip;
if (process.env.CHAOSCRAFT_TESTBED !== '1') {
  // eslint-disable-next-line no-console
  console.warn(
    'dashboard tests skipped: they need CHAOSCRAFT_TESTBED=1 (make test sets it), Prometheus and Chromium',
  );
}

const SCRAPE_INTERVAL_S = 1;
// The README's panel image; make test leaves it beside the browser test's screenshots.
const IMAGE_DIR =
  process.env.CHAOSCRAFT_DASHBOARD_IMAGE_DIR ??
  path.resolve(__dirname, '../../../test-results/dashboards');

async function waitAvailable(
  kc: KubeConfig,
  namespace: string,
  name: string,
  replicas: number,
): Promise<void> {
  const apps = kc.makeApiClient(AppsV1Api);
  await waitFor(
    async () =>
      (
        await apps.readNamespacedDeployment({ name, namespace })
      ).status?.availableReplicas === replicas,
    {
      timeoutMs: 60_000,
      description: `Deployment ${name} fully available`,
    },
  );
}

/** The single value of an instant query with one series, for the panels whose figure is checked. */
function only(results: QueryResult[], panel: string): number {
  const result = results.find(r => r.panel === panel);
  expect(result?.series).toHaveLength(1);
  return result!.series[0].values[result!.series[0].values.length - 1][1];
}

describeTestbed(
  'Grafana dashboards against a real Prometheus that scraped the agent during real runs',
  () => {
    const target = useSandboxNamespace({ prefix: 'dash', labels: OPT_IN });
    const agent = useSandboxNamespace({ prefix: 'agent' });
    let running: RunningController;
    let prometheus: TestPrometheus;
    let dir: string;

    beforeAll(async () => {
      await applyCrds(target.kc);
      running = await startController(target.kc, {
        agentNamespace: agent.namespace,
        watchNamespaces: [target.namespace],
      });
      dir = mkdtempSync(path.join(os.tmpdir(), 'chaoscraft-dashboards-'));
      prometheus = await startPrometheus({
        dir,
        jobs: [
          {
            job: 'chaoscraft-agent',
            targets: [`127.0.0.1:${running.controller.metricsPort}`],
          },
        ],
        scrapeIntervalMs: SCRAPE_INTERVAL_S * 1000,
      });
      await waitFor(
        async () =>
          (await prometheus.value('up{job="chaoscraft-agent"}')) === 1,
        {
          timeoutMs: 20_000,
          description: 'Prometheus scraping the controller',
        },
      );
    });

    afterAll(async () => {
      await prometheus?.stop();
      await running?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('every panel query parses and returns data; the figures are the runs', async () => {
      const { kc, namespace } = target;
      const start = Math.floor(Date.now() / 1000) - 5;
      const spec = (
        app: string,
        extra: Partial<ChaosRunSpecInput>,
      ): ChaosRunSpecInput => ({
        target: {
          namespace,
          labelSelector: { app },
          selection: { mode: 'one' },
        },
        faults: [{ type: 'pod-kill', gracePeriodSeconds: 0 }],
        duration: '2s',
        ...extra,
      });

      await Promise.all([
        createDeployment(kc, namespace, 'web', 10),
        createDeployment(kc, namespace, 'guarded', 4),
        createDeployment(kc, namespace, 'slow', 6),
        createDeployment(kc, namespace, 'dip', 10, { minReadySeconds: 10 }),
      ]);
      // No disruption allowed: every eviction of a guarded pod is refused.
      await target.policy.createNamespacedPodDisruptionBudget({
        namespace,
        body: {
          metadata: { name: 'guarded-pdb' },
          spec: {
            minAvailable: 4,
            selector: { matchLabels: { app: 'guarded' } },
          },
        },
      });
      await waitFor(
        async () => {
          const pdb = await target.policy.readNamespacedPodDisruptionBudget({
            name: 'guarded-pdb',
            namespace,
          });
          return (
            pdb.status?.observedGeneration === pdb.metadata?.generation &&
            pdb.status?.currentHealthy === 4 &&
            pdb.status.disruptionsAllowed === 0
          );
        },
        { description: 'PDB observed with no disruption allowed' },
      );
      await waitAvailable(kc, namespace, 'dip', 10);

      await createRun(kc, namespace, 'completed', spec('web', {}));
      await createRun(
        kc,
        namespace,
        'pdb-blocked',
        spec('guarded', { safety: { maxBlastRadiusPercent: 30 } }),
      );
      await createRun(
        kc,
        namespace,
        'hypothesis-aborted',
        spec('dip', {
          target: {
            namespace,
            labelSelector: { app: 'dip' },
            selection: { mode: 'percent', percent: 50 },
          },
          duration: '60s',
          safety: {
            maxBlastRadiusPercent: 50,
            respectPodDisruptionBudgets: false,
          },
          hypothesis: {
            interval: '1s',
            failureThreshold: 1,
            recoveryTimeout: '40s',
            probes: [
              {
                type: 'k8s',
                name: 'dip-available',
                deployment: 'dip',
                minAvailableRatio: 0.9,
              },
            ],
          },
        }),
      );
      await createRun(
        kc,
        namespace,
        'abort-requested',
        spec('slow', {
          duration: '120s',
          safety: { maxBlastRadiusPercent: 20 },
        }),
      );
      expect(
        (
          await waitForRunPhase(kc, namespace, 'abort-requested', [
            'Running',
            'Completed',
            'Aborted',
            'Failed',
          ])
        ).status?.phase,
      ).toBe('Running');
      await new ChaosRunClient(kc).mergePatch(namespace, 'abort-requested', {
        spec: { abort: true },
      });

      const ended = ['Completed', 'Aborted', 'Failed'] as const;
      const runs = {
        completed: await waitForRunPhase(kc, namespace, 'completed', [
          ...ended,
        ]),
        blocked: await waitForRunPhase(kc, namespace, 'pdb-blocked', [
          ...ended,
        ]),
        hypothesis: await waitForRunPhase(
          kc,
          namespace,
          'hypothesis-aborted',
          [...ended],
          90_000,
        ),
        requested: await waitForRunPhase(kc, namespace, 'abort-requested', [
          ...ended,
        ]),
      };
      // The runs did what the panels below must show.
      expect(runs.completed.status).toMatchObject({
        phase: 'Completed',
        blastRadius: { selected: 1, eligible: 10 },
      });
      expect(runs.blocked.status!.targets.map(t => t.phase)).toEqual([
        'Blocked',
      ]);
      expect(runs.hypothesis.status).toMatchObject({
        phase: 'Aborted',
        reason: 'HypothesisViolated',
      });
      expect(runs.hypothesis.status!.abortLatencyMs).toBeGreaterThanOrEqual(0);
      expect(runs.requested.status).toMatchObject({
        phase: 'Aborted',
        reason: 'AbortRequested',
      });

      // Prometheus has scraped every run in its final state.
      await waitFor(
        async () =>
          (await prometheus.value(
            `count(chaoscraft_run_info{namespace="${namespace}", phase=~"Completed|Aborted|Failed"})`,
          )) === 4,
        { timeoutMs: 20_000, description: 'the four ended runs scraped' },
      );
      await new Promise(resolve =>
        setTimeout(resolve, 2 * SCRAPE_INTERVAL_S * 1000),
      );
      const window: Window = {
        start,
        end: Math.floor(Date.now() / 1000),
        stepS: 1,
        scrapeIntervalS: SCRAPE_INTERVAL_S,
        variables: { namespace },
      };

      const dashboards = loadDashboards();
      expect(dashboards.map(d => d.file)).toEqual([
        'blast-radius.json',
        'chaos-overview.json',
      ]);
      const results: QueryResult[] = [];
      for (const dashboard of dashboards) {
        expect(await variableValues(prometheus.url, dashboard, window)).toEqual(
          { namespace: [namespace] },
        );
        results.push(
          ...(await evaluateDashboard(prometheus.url, dashboard, window)),
        );
      }
      const failures = results
        .filter(r => r.error || r.series.length === 0)
        .map(
          r =>
            `${r.dashboard} "${r.panel}" ${r.refId}: ${r.error ?? 'no data'} (${
              r.expr
            })`,
        );
      expect(failures).toEqual([]);
      const panels = dashboards.reduce((sum, d) => sum + d.panels.length, 0);
      // Every panel has a query; a panel without one could not show anything.
      expect(new Set(results.map(r => `${r.dashboard}/${r.panel}`)).size).toBe(
        panels,
      );

      // The figures, as the runs left them.
      expect(only(results, 'Runs')).toBe(4);
      expect(only(results, 'Aborted')).toBe(2);
      expect(only(results, 'PDB-blocked targets')).toBe(1);
      expect(only(results, 'Injections')).toBeGreaterThanOrEqual(1 + 5 + 1);
      expect(only(results, 'Slowest abort')).toBeCloseTo(
        runs.hypothesis.status!.abortLatencyMs! / 1000,
        3,
      );
      const reasons = results
        .find(r => r.panel === 'Aborts by reason')!
        .series.map(s => s.metric.reason)
        .sort();
      expect(reasons).toEqual(['AbortRequested', 'HypothesisViolated']);
      const limits = results.find(
        r =>
          r.panel === 'Selected vs eligible vs limit, per run' &&
          r.refId === 'C',
      )!;
      const dipLimit = limits.series.find(
        s => s.metric.run === 'hypothesis-aborted',
      )!;
      expect(dipLimit.values[0][1]).toBe(5); // floor(10 eligible × 50% / 100)
      const verdicts = results
        .find(r => r.panel === 'Runs by phase and verdict')!
        .series.map(s => `${s.metric.phase}/${s.metric.verdict}`);
      expect(verdicts).toEqual(expect.arrayContaining(['Aborted/Failed']));
      const nodes = new Set(
        results
          .find(r => r.panel === 'Targets by node')!
          .series.map(s => s.metric.node),
      );
      expect(nodes.size).toBeGreaterThanOrEqual(2);

      process.stdout.write(
        `dashboards: ${panels} panels, ${
          results.filter(r => r.series.length > 0).length
        } queries with data\n`,
      );

      // One panel, drawn from the same answers, for the README.
      const byPhase = results.find(
        r =>
          r.dashboard === 'chaos-overview.json' && r.panel === 'Runs by phase',
      )!;
      // Stacked as the run's life goes: ended runs at the bottom, live phases on top.
      const order = [
        'Aborted',
        'Failed',
        'Completed',
        'RollingBack',
        'Running',
        'Injecting',
        'Preflight',
        'Pending',
      ];
      const shown = byPhase.series
        .filter(s => s.values.some(([, v]) => v > 0))
        .sort(
          (a, b) =>
            order.indexOf(a.metric.phase) - order.indexOf(b.metric.phase),
        );
      const colors: Record<string, string> = {
        Pending: '#8e8e9e',
        Preflight: '#F2CC0C',
        Injecting: '#FF780A',
        Running: '#5794F2',
        RollingBack: '#B877D9',
        Completed: '#73BF69',
        Aborted: '#F2495C',
        Failed: '#C4162A',
      };
      // From three seconds before the first run appeared (the time before went into deployments).
      const firstRun = Math.min(
        ...shown.map(s => s.values.find(([, v]) => v > 0)![0]),
      );
      const from = (points: Array<[number, number]>) =>
        points.filter(([t]) => t >= firstRun - 3);
      const file = path.join(IMAGE_DIR, 'chaos-overview-runs-by-phase.png');
      const drawn = await renderPanelPng(
        {
          title: 'Runs by phase',
          subtitle:
            'ChaosCraft: chaos overview · max by (phase) (chaoscraft_runs) · real controller, real Prometheus',
          stacked: true,
          series: shown.map(s => ({
            name: legend('{{phase}}', s.metric),
            points: from(s.values),
            color: colors[s.metric.phase],
          })),
        },
        file,
      );
      expect(drawn).toBe(shown.length);
      expect(shown.map(s => s.metric.phase)).toEqual(
        expect.arrayContaining(['Completed', 'Aborted']),
      );
      expect(statSync(file).size).toBeGreaterThan(10_000);
    });
  },
);
