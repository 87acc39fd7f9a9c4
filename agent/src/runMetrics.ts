import { Gauge, Registry } from 'prom-client';
import type { ChaosRunResource } from '@chaoscraft/backstage-plugin-chaos-node';

/**
 * Registers the per-run gauges and returns them. Per-run gauges for the Grafana dashboards (infra/observability/dashboards), computed at scrape
 * time from the controller's informer cache, like `chaoscraft_runs`: they are the ChaosRun
 * status as it is, so they never drift from it and need no hook in the pipeline. A run's series
 * exist while its ChaosRun does; deleting old runs drops them. Every replica exports them (the
 * standbys' caches are warm too), so dashboards aggregate with max by (namespace, run).
 */
export function registerRunMetrics(
  registry: Registry,
  runs: () => Iterable<ChaosRunResource>,
): Gauge[] {
  const registers = [registry];
  /** Fills a gauge from every run in the cache; the previous scrape's series are dropped first. */
  const perRun = <L extends string>(
    gauge: Gauge<L>,
    fill: (
      run: ChaosRunResource,
      labels: { namespace: string; run: string },
      set: (labels: Partial<Record<L, string>>, value: number) => void,
    ) => void,
  ): void => {
    gauge.reset();
    for (const run of runs()) {
      const id = {
        namespace: run.metadata.namespace ?? '',
        run: run.metadata.name ?? '',
      };
      fill(run, id, (labels, value) =>
        gauge.set(
          { ...id, ...labels } as Partial<Record<L, string | number>>,
          value,
        ),
      );
    }
  };

  const info = new Gauge({
    name: 'chaoscraft_run_info',
    help: 'One series per ChaosRun: its phase, verdict and reason (empty until decided), and the experiment it came from',
    labelNames: [
      'namespace',
      'run',
      'phase',
      'verdict',
      'reason',
      'experiment',
    ],
    registers,
    collect() {
      perRun(this, (run, _id, set) => {
        const spec = run.spec as { experiment?: { name?: string } } | undefined;
        set(
          {
            phase: run.status?.phase ?? 'Pending',
            verdict: run.status?.verdict ?? '',
            reason: run.status?.reason ?? '',
            experiment: spec?.experiment?.name ?? '',
          },
          1,
        );
      });
    },
  });

  const blastRadius = (
    name: string,
    help: string,
    field: 'selected' | 'eligible' | 'percent' | 'limit',
  ): Gauge =>
    new Gauge({
      name,
      help,
      labelNames: ['namespace', 'run'],
      registers,
      collect() {
        perRun(this, (run, _id, set) => {
          const value = run.status?.blastRadius?.[field];
          if (value !== undefined) set({}, value);
        });
      },
    });

  const targets = new Gauge({
    name: 'chaoscraft_run_targets',
    help: "The run's target records, by node, fault and target phase (Blocked: a PodDisruptionBudget refused the eviction)",
    labelNames: ['namespace', 'run', 'node', 'fault', 'phase'],
    registers,
    collect() {
      perRun(this, (run, _id, set) => {
        const counts = new Map<
          string,
          { node: string; fault: string; phase: string; count: number }
        >();
        for (const target of run.status?.targets ?? []) {
          const labels = {
            node: target.node ?? '',
            fault: target.fault,
            phase: target.phase,
          };
          const key = `${labels.node}\u0000${labels.fault}\u0000${labels.phase}`;
          const entry = counts.get(key) ?? { ...labels, count: 0 };
          entry.count += 1;
          counts.set(key, entry);
        }
        for (const { count, ...labels } of counts.values()) set(labels, count);
      });
    },
  });

  const abortLatency = new Gauge({
    name: 'chaoscraft_run_abort_latency_seconds',
    help: 'For a run the hypothesis aborted: time from the first violating probe sample to every fault reverted',
    labelNames: ['namespace', 'run'],
    registers,
    collect() {
      perRun(this, (run, _id, set) => {
        const ms = run.status?.abortLatencyMs;
        if (ms !== undefined) set({}, ms / 1000);
      });
    },
  });
  return [
    info,
    blastRadius(
      'chaoscraft_run_blast_radius_selected',
      'Pods the run selected as targets',
      'selected',
    ),
    blastRadius(
      'chaoscraft_run_blast_radius_eligible',
      'Pods the run could have selected (matching, running, not protected)',
      'eligible',
    ),
    blastRadius(
      'chaoscraft_run_blast_radius_percent',
      'Selected pods as a percent of the eligible ones',
      'percent',
    ),
    blastRadius(
      'chaoscraft_run_blast_radius_limit_percent',
      "The run's blast-radius cap, in percent of the eligible pods",
      'limit',
    ),
    targets,
    abortLatency,
  ];
}
