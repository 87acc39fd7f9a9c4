import http from 'node:http';
import { AddressInfo } from 'node:net';
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
} from 'prom-client';
import {
  FAULT_TYPES,
  RUN_PHASES,
  RunPhase,
} from '@chaoscraft/backstage-plugin-chaos-common';
import type { ChaosRunResource } from '@chaoscraft/backstage-plugin-chaos-node';
import { registerRunMetrics } from './runMetrics';

/** The controller's Prometheus metrics, on their own registry (tests run several controllers). */
export class ControllerMetrics {
  readonly registry = new Registry();
  readonly injections: Counter<'fault'>;
  readonly blockedTargets: Counter<'fault'>;
  readonly errors: Counter<'step'>;
  readonly reconcileDuration: Histogram<'step'>;
  readonly selectionDuration: Histogram;
  readonly leader: Gauge;
  readonly runs: Gauge<'phase'>;

  /** `runs`, when given, adds the per-run gauges the dashboards use (src/runMetrics.ts). */
  constructor(
    runPhases: () => Iterable<RunPhase | undefined>,
    runs?: () => Iterable<ChaosRunResource>,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({
      register: this.registry,
      prefix: 'chaoscraft_agent_',
    });
    if (runs) registerRunMetrics(this.registry, runs);
    this.runs = new Gauge({
      name: 'chaoscraft_runs',
      help: 'ChaosRuns this controller sees, by phase',
      labelNames: ['phase'],
      registers,
      // Computed at scrape time from the informer cache: always true, never drifts.
      collect() {
        const counts = new Map<string, number>(
          RUN_PHASES.map(phase => [phase, 0]),
        );
        for (const phase of runPhases()) {
          const key = phase ?? 'Pending';
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
        for (const [phase, count] of counts) this.set({ phase }, count);
      },
    });
    this.injections = new Counter({
      name: 'chaoscraft_injections_total',
      help: 'Faults applied to targets, by fault type',
      labelNames: ['fault'],
      registers,
    });
    this.blockedTargets = new Counter({
      name: 'chaoscraft_blocked_targets_total',
      help: 'Targets left alone because a PodDisruptionBudget refused the eviction',
      labelNames: ['fault'],
      registers,
    });
    this.errors = new Counter({
      name: 'chaoscraft_errors_total',
      help: 'Errors while reconciling, by pipeline step',
      labelNames: ['step'],
      registers,
    });
    this.reconcileDuration = new Histogram({
      name: 'chaoscraft_reconcile_duration_seconds',
      help: 'Duration of one reconcile of one run, by the step that ended it',
      labelNames: ['step'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.selectionDuration = new Histogram({
      name: 'chaoscraft_selection_duration_seconds',
      help: 'Time to list candidate pods, select targets and compute the blast radius',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.leader = new Gauge({
      name: 'chaoscraft_leader',
      help: '1 while this replica holds the leader lease',
      registers,
    });
    // Every series known in advance starts at 0 (Prometheus' advice): rate() and increase() then
    // count the first injection or block too, and dashboards show 0 rather than no data.
    for (const fault of FAULT_TYPES) {
      this.injections.inc({ fault }, 0);
      this.blockedTargets.inc({ fault }, 0);
    }
  }

  /** Starts the error counter of each named step at 0 (see the fault counters above). */
  initializeErrorSteps(steps: Iterable<string>): void {
    for (const step of steps) this.errors.inc({ step }, 0);
  }
}

export interface MetricsServer {
  /** The bound port (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

/** Serves /metrics, /healthz (process alive) and /readyz (caller-defined). */
export async function startMetricsServer(
  metrics: ControllerMetrics,
  options: { port: number; host: string; ready: () => boolean },
): Promise<MetricsServer> {
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      metrics.registry.metrics().then(
        body => {
          response.writeHead(200, {
            'Content-Type': metrics.registry.contentType,
          });
          response.end(body);
        },
        error => {
          response.writeHead(500);
          response.end(String(error));
        },
      );
      return;
    }
    if (path === '/healthz') {
      response.writeHead(200, { 'Content-Type': 'text/plain' });
      response.end('ok');
      return;
    }
    if (path === '/readyz') {
      const ready = options.ready();
      response.writeHead(ready ? 200 : 503, { 'Content-Type': 'text/plain' });
      response.end(ready ? 'ok' : 'not ready');
      return;
    }
    response.writeHead(404);
    response.end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
