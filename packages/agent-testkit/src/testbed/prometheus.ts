import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  freePort,
  startProcess,
  StopWaiting,
  waitUntil,
  type StartedProcess,
} from './processes';

export interface ScrapeJob {
  job: string;
  targets: string[];
}

export interface TestPrometheus {
  readonly url: string;
  readonly process: StartedProcess;
  /** Instant query; resolves with the single value, or undefined when there is none. */
  value(query: string): Promise<number | undefined>;
  stop(): Promise<void>;
}

/** The Debian package's server binary; PROMETHEUS_BIN overrides it. */
export const PROMETHEUS_BIN =
  process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';

/**
 * A real Prometheus on a free loopback port, with its own config and data directory under
 * `dir`, scraping `jobs` every `scrapeIntervalMs`. Ready when it answers /-/ready.
 */
export async function startPrometheus(options: {
  dir: string;
  jobs: ScrapeJob[];
  scrapeIntervalMs?: number;
}): Promise<TestPrometheus> {
  const interval = options.scrapeIntervalMs ?? 1000;
  const dataDir = path.join(options.dir, 'prometheus-data');
  mkdirSync(dataDir, { recursive: true });
  const configFile = path.join(options.dir, 'prometheus.yml');
  // Scrape timeout below the interval: a scrape of a partitioned target must not overlap the next.
  const config = [
    'global:',
    `  scrape_interval: ${interval}ms`,
    `  scrape_timeout: ${Math.floor(interval * 0.8)}ms`,
    `  evaluation_interval: ${interval}ms`,
    'scrape_configs:',
    ...options.jobs.flatMap(job => [
      `  - job_name: ${job.job}`,
      '    static_configs:',
      `      - targets: [${job.targets.map(t => `'${t}'`).join(', ')}]`,
    ]),
    '',
  ].join('\n');
  writeFileSync(configFile, config);

  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const proc = startProcess(
      'prometheus',
      PROMETHEUS_BIN,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${dataDir}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=1h',
        '--log.level=warn',
      ],
      { logDir: options.dir },
    );
    let exited = false;
    void proc.exited.then(() => {
      exited = true;
    });
    try {
      await waitUntil(
        'Prometheus to be ready',
        async () => {
          if (exited) {
            // e.g. the port was taken between freePort() and the bind: try another one.
            throw new StopWaiting(`prometheus exited: ${proc.tail(5)}`);
          }
          const response = await fetch(`${url}/-/ready`);
          return response.ok;
        },
        { timeoutMs: 30_000 },
      );
    } catch (error) {
      lastError = error;
      await proc.stop();
      continue;
    }
    return {
      url,
      process: proc,
      async value(query) {
        const response = await fetch(`${url}/api/v1/query`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ query }),
        });
        const body = (await response.json()) as {
          data?: {
            resultType: string;
            result: Array<{ value: [number, string] }> | [number, string];
          };
        };
        const result = body.data?.result;
        if (!result || body.data?.resultType !== 'vector') {
          return body.data?.resultType === 'scalar'
            ? Number((result as [number, string])[1])
            : undefined;
        }
        const series = result as Array<{ value: [number, string] }>;
        if (series.length !== 1) return undefined;
        const value = Number(series[0].value[1]);
        return Number.isNaN(value) ? undefined : value;
      },
      stop: () => proc.stop(5000),
    };
  }
  throw new Error(`Prometheus did not start: ${(lastError as Error)?.message}`);
}
