import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createServiceNamespace, type ServiceNamespace } from './netns';
import { TestbedNetworkFaults } from './networkFaults';
import {
  freePort,
  nodeTsCommand,
  onExit,
  startProcess,
  StopWaiting,
  waitUntil,
  type StartedProcess,
} from './processes';
import { startPrometheus, type TestPrometheus } from './prometheus';

// Test tooling, always run from source: its scripts sit beside this file.
// eslint-disable-next-line no-restricted-syntax
const HERE = __dirname;

/**
 * The error ratio clients observe, over the last 5 s: errors (timeouts included) over all
 * requests the load generator made. With 1 s scrapes a 5 s window holds about five samples:
 * short enough to see a fault within seconds, long enough not to flap on one scrape.
 */
export const ERROR_RATE_QUERY =
  'sum(rate(loadgen_requests_total{result="error"}[5s])) / sum(rate(loadgen_requests_total[5s]))';

export interface TestbedOptions {
  /** Load in requests per second. Default 50. */
  rate?: number;
  /** Upper bound on the load generator's life; it stops by itself then. Default 300 s. */
  loadDurationS?: number;
  /** Client timeout of one request; a slower answer is an error. Default 500 ms. */
  requestTimeoutMs?: number;
  /** Prometheus scrape interval. Default 1000 ms. */
  scrapeIntervalMs?: number;
}

export interface Testbed {
  /** Root of the test bed's temp files: logs, Prometheus config and data, the fault ledger. */
  readonly dir: string;
  readonly prometheus: TestPrometheus;
  readonly prometheusUrl: string;
  /** The demo service, as reached from the root namespace through the veth pair. */
  readonly serviceUrl: string;
  readonly netns: ServiceNamespace;
  readonly faults: TestbedNetworkFaults;
  readonly errorRateQuery: string;
  /** The client-side error ratio Prometheus sees now (undefined while it has no data). */
  errorRate(): Promise<number | undefined>;
  /** Waits until Prometheus sees an error ratio for which `predicate` holds; returns it. */
  waitForErrorRate(
    predicate: (rate: number) => boolean,
    description: string,
    timeoutMs?: number,
  ): Promise<number>;
  /** Reverts faults, stops every process and deletes the namespace and temp files. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts the whole test bed: a network namespace with the demo service inside, a load generator
 * in the root namespace, and Prometheus scraping both every second. Resolves once Prometheus
 * reports an error ratio (both series scraped at least twice). On any failure it stops what it
 * started before throwing. Needs root (netns, veth, iptables) and the `prometheus` binary.
 */
export async function startTestbed(
  options: TestbedOptions = {},
): Promise<Testbed> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cc-testbed-'));
  const processes: StartedProcess[] = [];
  let netns: ServiceNamespace | undefined;
  let prometheus: TestPrometheus | undefined;
  let faults: TestbedNetworkFaults | undefined;
  let stopped = false;

  const unregisterDirCleanup = onExit(() => {
    if (!process.env.CHAOSCRAFT_KEEP_TESTBED)
      rmSync(dir, { recursive: true, force: true });
  });

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    try {
      await faults?.revertAll();
    } finally {
      await Promise.all(processes.map(p => p.stop()));
      netns?.delete();
      if (!process.env.CHAOSCRAFT_KEEP_TESTBED) {
        rmSync(dir, { recursive: true, force: true });
      }
      unregisterDirCleanup();
    }
  };

  try {
    netns = createServiceNamespace();
    const servicePort = 8080;
    const demo = nodeTsCommand(path.join(HERE, 'demoService.ts'));
    const demoProcess = startProcess(
      'demo-service',
      'ip',
      ['netns', 'exec', netns.name, demo.command, ...demo.args],
      {
        logDir: dir,
        env: { DEMO_HOST: '0.0.0.0', DEMO_PORT: String(servicePort) },
      },
    );
    processes.push(demoProcess);
    const serviceUrl = `http://${netns.serviceAddress}:${servicePort}/`;
    let demoExited = false;
    void demoProcess.exited.then(() => {
      demoExited = true;
    });
    await waitUntil(
      'the demo service to answer through the veth pair',
      async () => {
        if (demoExited)
          throw new StopWaiting(`demo service exited: ${demoProcess.tail()}`);
        const response = await fetch(serviceUrl, {
          signal: AbortSignal.timeout(1000),
        });
        return response.ok;
      },
    );

    const metricsPort = await freePort();
    const loadgen = nodeTsCommand(path.join(HERE, 'loadgen.ts'));
    processes.push(
      startProcess('loadgen', loadgen.command, loadgen.args, {
        logDir: dir,
        env: {
          LOADGEN_TARGET: serviceUrl,
          LOADGEN_RATE: String(options.rate ?? 50),
          LOADGEN_DURATION_S: String(options.loadDurationS ?? 300),
          LOADGEN_TIMEOUT_MS: String(options.requestTimeoutMs ?? 500),
          LOADGEN_METRICS_PORT: String(metricsPort),
        },
      }),
    );

    prometheus = await startPrometheus({
      dir,
      scrapeIntervalMs: options.scrapeIntervalMs ?? 1000,
      jobs: [
        { job: 'loadgen', targets: [`127.0.0.1:${metricsPort}`] },
        { job: 'demo', targets: [`${netns.serviceAddress}:${servicePort}`] },
      ],
    });
    processes.push(prometheus.process);
    const prom = prometheus;
    await waitUntil(
      'Prometheus to report the client error ratio',
      async () => (await prom.value(ERROR_RATE_QUERY)) !== undefined,
      {
        timeoutMs: 30_000,
        intervalMs: 250,
      },
    );

    faults = await TestbedNetworkFaults.create({
      dir,
      netnsName: netns.name,
      netnsPath: netns.path,
    });
    const testbedFaults = faults;
    const testbedNetns = netns;
    return {
      dir,
      prometheus: prom,
      prometheusUrl: prom.url,
      serviceUrl,
      netns: testbedNetns,
      faults: testbedFaults,
      errorRateQuery: ERROR_RATE_QUERY,
      errorRate: () => prom.value(ERROR_RATE_QUERY),
      async waitForErrorRate(predicate, description, timeoutMs = 30_000) {
        return waitUntil(
          `error rate ${description}`,
          async () => {
            const value = await prom.value(ERROR_RATE_QUERY);
            return value !== undefined && predicate(value)
              ? { value }
              : undefined;
          },
          { timeoutMs, intervalMs: 200 },
        ).then(found => found.value);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
