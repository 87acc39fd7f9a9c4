/**
 * The demo app that runs as real pods on the sandbox's real node: an HTTP service whose error
 * rate Prometheus can read, with a readiness endpoint the kubelet probes.
 *
 *   GET /          200 "ok", or 500 for a share DEMO_ERROR_RATE (0..1) of the requests
 *   GET /ready     200 while serving, 503 once SIGTERM arrived (the pod is leaving)
 *   GET /metrics   demo_requests_total{code}, demo_request_duration_seconds, process metrics
 *   GET /peer?url= fetches another pod's URL from inside this pod (pod-to-pod reachability)
 *   GET /bytes?n=  streams n bytes (1..1e9) out of the pod: a throughput probe for a bandwidth fault
 *
 * On SIGTERM it logs the signal (so a test can observe the grace period from inside the
 * container), reports not ready, keeps serving for DEMO_DRAIN_SECONDS (default 2), then exits 0.
 * Environment: DEMO_PORT (8080), DEMO_ERROR_RATE (0), DEMO_DRAIN_SECONDS (2).
 */
import http from 'node:http';
import {
  Counter,
  Histogram,
  Registry,
  collectDefaultMetrics,
} from 'prom-client';

function numberFromEnv(
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(
      `${name} must be a number in [${min}, ${max}], got '${raw}'`,
    );
  }
  return value;
}

const port = numberFromEnv('DEMO_PORT', 8080, 1, 65535);
const errorRate = numberFromEnv('DEMO_ERROR_RATE', 0, 0, 1);
const drainSeconds = numberFromEnv('DEMO_DRAIN_SECONDS', 2, 0, 3600);

const registry = new Registry();
collectDefaultMetrics({ register: registry });
const requests = new Counter({
  name: 'demo_requests_total',
  help: 'Requests to /, by HTTP status code: the error rate is the 5xx share',
  labelNames: ['code'],
  registers: [registry],
});
const duration = new Histogram({
  name: 'demo_request_duration_seconds',
  help: 'Time to serve one request to /',
  buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5],
  registers: [registry],
});
// Both series exist from the start, so rate() over them is defined before the first error.
requests.labels('200').inc(0);
requests.labels('500').inc(0);

let draining = false;

function log(message: string): void {
  process.stdout.write(`${new Date().toISOString()} demo-app: ${message}\n`);
}

async function fetchPeer(
  url: string,
): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
  return { status: response.status, body: await response.text() };
}

const MAX_BYTES = 1e9;
const CHUNK = Buffer.alloc(64 * 1024, 'x');

/** Writes n bytes of CHUNK, waiting for 'drain' when the socket's buffer is full. */
async function streamBytes(res: http.ServerResponse, n: number): Promise<void> {
  res.setHeader('content-type', 'application/octet-stream');
  res.setHeader('content-length', String(n));
  for (let left = n; left > 0 && !res.destroyed; left -= CHUNK.length) {
    if (!res.write(left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left))) {
      await new Promise(resolve => {
        res.once('drain', resolve);
        res.once('close', resolve);
      });
    }
  }
  res.end();
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/metrics') {
    res.setHeader('content-type', registry.contentType);
    res.end(await registry.metrics());
    return;
  }
  if (url.pathname === '/ready') {
    res.statusCode = draining ? 503 : 200;
    res.end(draining ? 'draining\n' : 'ready\n');
    return;
  }
  if (url.pathname === '/peer') {
    const target = url.searchParams.get('url');
    if (!target) {
      res.statusCode = 400;
      res.end('query parameter url is required\n');
      return;
    }
    try {
      const peer = await fetchPeer(target);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(peer));
    } catch (error) {
      res.statusCode = 502;
      res.end(`${(error as Error).message}\n`);
    }
    return;
  }
  if (url.pathname === '/bytes') {
    const n = Number(url.searchParams.get('n'));
    if (!Number.isInteger(n) || n < 1 || n > MAX_BYTES) {
      res.statusCode = 400;
      res.end(`query parameter n must be an integer in [1, ${MAX_BYTES}]\n`);
      return;
    }
    await streamBytes(res, n);
    return;
  }
  if (url.pathname !== '/') {
    res.statusCode = 404;
    res.end('not found\n');
    return;
  }
  const end = duration.startTimer();
  const failed = Math.random() < errorRate;
  res.statusCode = failed ? 500 : 200;
  res.end(failed ? 'injected error\n' : 'ok\n');
  requests.labels(String(res.statusCode)).inc();
  end();
});
server.keepAliveTimeout = 5_000;

process.once('SIGTERM', () => {
  draining = true;
  log(`received SIGTERM; draining for ${drainSeconds}s`);
  setTimeout(() => {
    log('exiting');
    server.close(() => process.exit(0));
    server.closeAllConnections();
  }, drainSeconds * 1000);
});
process.once('SIGINT', () => process.exit(0));

server.listen(port, '0.0.0.0', () => {
  log(`listening on :${port} (error rate ${errorRate})`);
});
