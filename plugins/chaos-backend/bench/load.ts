import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { Histogram, monitorEventLoopDelay } from 'node:perf_hooks';
import {
  ChaosRunClient,
  loadKubeConfig,
} from '@chaoscraft/backstage-plugin-chaos-node';
import { decodeRunCursor } from '../src/database/runCursor';
import { createChaosRunWith, openRawDb, rawOperations } from './rawSql';
import { Dialect, entityOfRun, entityRef, experimentForCreate } from './seed';

/** The four operations, in the order each client cycles through them. */
export const OPERATIONS = [
  'list_first',
  'list_deep',
  'get_run',
  'create',
] as const;
export type Operation = (typeof OPERATIONS)[number];

/**
 * Who answers: the backend; the HTTP floor (the raw statements behind a bare `node:http` server
 * on the backend's thread, see httpFloor.ts); or the raw statements sent from the load's own
 * thread, with no HTTP at all.
 */
export type LoadTarget = 'backend' | 'floor' | 'raw';

export type LoadJob = {
  target: LoadTarget;
  dialect: Dialect;
  /** The backend's or the floor's base URL (not for raw). */
  url?: string;
  /**
   * The `Authorization` header every HTTP request carries, as the Backstage frontend's fetchApi
   * sends its user's token on every call (not for raw).
   */
  authorization?: string;
  pgUrl?: string;
  sqlitePath?: string;
  poolSize: number;
  kubeconfigPath: string;
  namespace: string;
  clients: number;
  durationMs: number;
  thinkMs: number;
  entities: number;
  runs: number;
  /**
   * The deep page of the busiest entity, asked for as a client that paged there would: with the
   * cursor (`after`) of the run before it.
   */
  deep: { entityRef: string; after: string };
  largeRunIds: string[];
  /** The operations the clients cycle through. */
  operations: Operation[];
  /** Creates take experiments from here on (experiment n: entity n % E, the (n / E)-th of its four). */
  firstExperiment: number;
  seed: number;
};

export type LoadResult = {
  latencies: Record<Operation, number[]>;
  errors: Record<Operation, { count: number; sample?: string }>;
  nextExperiment: number;
  /** How late the load's own event loop ran (ms, p99): time the figures owe to the client. */
  loopLateP99Ms: number;
};

/** How often an event loop's lateness is sampled (monitorEventLoopDelay's resolution). */
export const LOOP_RESOLUTION_MS = 5;

/** How late a loop sampled at LOOP_RESOLUTION_MS ran, in ms, at percentile p (100: at most). */
export function loopLateMs(delays: Histogram, p: number): number {
  const ns = p >= 100 ? delays.max : delays.percentile(p);
  return Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS);
}

/** A small seeded PRNG (mulberry32): the same requests in every slice of a given seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function run(job: LoadJob): Promise<LoadResult> {
  const random = prng(job.seed);
  let nextExperiment = job.firstExperiment;
  const takeExperiment = (): string => {
    return experimentForCreate(nextExperiment++, job.entities);
  };
  // The first page of an entity picked as a page view would pick it: weighted by its runs.
  const someEntity = (): string =>
    entityRef(entityOfRun(1 + Math.floor(random() * job.runs), job.entities));
  const someLargeRun = (): string =>
    job.largeRunIds[Math.floor(random() * job.largeRunIds.length)];

  let perform: (op: Operation) => Promise<void>;
  let close: () => Promise<void>;
  if (job.target !== 'raw') {
    // The backend and the HTTP floor answer the same requests.
    const agent = new http.Agent({ keepAlive: true, maxSockets: job.clients });
    const url = new URL(job.url!);
    const request = (
      method: string,
      path: string,
      body?: unknown,
    ): Promise<void> =>
      new Promise<void>((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const req = http.request(
          {
            agent,
            host: url.hostname,
            port: url.port,
            method,
            path: `/api/chaos${path}`,
            headers: {
              'content-type': 'application/json',
              ...(job.authorization
                ? { authorization: job.authorization }
                : {}),
              ...(payload
                ? { 'content-length': Buffer.byteLength(payload) }
                : {}),
            },
          },
          res => {
            const chunks: Buffer[] = [];
            res.on('data', c => chunks.push(c));
            res.on('end', () => {
              if (res.statusCode! >= 200 && res.statusCode! < 300) resolve();
              else
                reject(
                  new Error(
                    `${method} ${path}: ${res.statusCode} ${Buffer.concat(
                      chunks,
                    )
                      .toString()
                      .slice(0, 300)}`,
                  ),
                );
            });
            res.on('error', reject);
          },
        );
        req.on('error', (error: NodeJS.ErrnoException) => {
          // A kept-alive socket the server closed just as the request went out (HTTP/1.1's race,
          // as Node's documentation describes it): a read is sent again, as browsers do.
          if (
            method === 'GET' &&
            req.reusedSocket &&
            error.code === 'ECONNRESET'
          )
            request(method, path).then(resolve, reject);
          else reject(error);
        });
        req.end(payload);
      });
    perform = async op => {
      switch (op) {
        case 'list_first':
          return request(
            'GET',
            `/runs?entityRef=${encodeURIComponent(someEntity())}&limit=20`,
          );
        case 'list_deep':
          return request(
            'GET',
            `/runs?entityRef=${encodeURIComponent(job.deep.entityRef)}&after=${
              job.deep.after
            }&limit=20`,
          );
        case 'get_run':
          return request('GET', `/runs/${someLargeRun()}`);
        case 'create':
          return request('POST', `/experiments/${takeExperiment()}/runs`, {
            dryRun: false,
          });
        default:
          throw new Error(op);
      }
    };
    close = async () => agent.destroy();
  } else {
    const db = await openRawDb(job.dialect, {
      pgUrl: job.pgUrl,
      sqlitePath: job.sqlitePath,
      poolSize: job.poolSize,
    });
    const ops = rawOperations(db, job.dialect);
    const kc = loadKubeConfig(job.kubeconfigPath);
    const chaosRuns = new ChaosRunClient(kc);
    perform = async op => {
      switch (op) {
        case 'list_first':
          await ops.list(someEntity(), undefined, 20);
          return;
        case 'list_deep':
          await ops.list(
            job.deep.entityRef,
            decodeRunCursor(job.deep.after),
            20,
          );
          return;
        case 'get_run':
          await ops.getRun(someLargeRun());
          return;
        case 'create':
          // The same ChaosRun create the launcher sends, on the same kind of client.
          await ops.createRun(
            takeExperiment(),
            'user:default/mock',
            createChaosRunWith(chaosRuns),
          );
          return;
        default:
          throw new Error(op);
      }
    };
    close = async () => {
      await db.close();
      await kc.close();
    };
  }

  const latencies = Object.fromEntries(
    OPERATIONS.map(op => [op, [] as number[]]),
  ) as LoadResult['latencies'];
  const errors = Object.fromEntries(
    OPERATIONS.map(op => [op, { count: 0 }]),
  ) as LoadResult['errors'];
  const deadline = performance.now() + job.durationMs;
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loopDelay.enable();
  await Promise.all(
    Array.from({ length: job.clients }, async (_, client) => {
      // Clients start spread over one think time, not all in the same millisecond.
      await new Promise(r =>
        setTimeout(r, (client / job.clients) * job.thinkMs),
      );
      for (let k = 0; performance.now() < deadline; k++) {
        const op = job.operations[(client + k) % job.operations.length];
        const t0 = performance.now();
        try {
          await perform(op);
          latencies[op].push(performance.now() - t0);
        } catch (error) {
          errors[op].count++;
          errors[op].sample ??= String((error as Error).message ?? error).slice(
            0,
            400,
          );
        }
        if (job.thinkMs) await new Promise(r => setTimeout(r, job.thinkMs));
      }
    }),
  );
  loopDelay.disable();
  await close();
  return {
    latencies,
    errors,
    nextExperiment,
    loopLateP99Ms: loopLateMs(loopDelay, 99),
  };
}

if (parentPort && workerData) {
  run(workerData as LoadJob).then(
    result => parentPort!.postMessage({ result }),
    error => parentPort!.postMessage({ error: String(error?.stack ?? error) }),
  );
}
