/**
 * The demo service of the test bed: serves `/` for load and `/metrics` for Prometheus. It runs
 * inside the test bed's network namespace (`ip netns exec`), so network faults hit it the way
 * they hit a pod. Its counters show the service-side view: requests that reached it.
 *
 *   DEMO_HOST=0.0.0.0 DEMO_PORT=8080 node --require .../nodeTransform.cjs demoService.ts
 *
 * It exits on SIGTERM, when its parent dies (it is never left behind by a killed test), and
 * after DEMO_MAX_LIFETIME_S (default 900) in any case.
 */
import http from 'node:http';
import {
  Counter,
  Histogram,
  Registry,
  collectDefaultMetrics,
} from 'prom-client';

const host = process.env.DEMO_HOST ?? '0.0.0.0';
const port = Number(process.env.DEMO_PORT ?? '8080');
const maxLifetimeS = Number(process.env.DEMO_MAX_LIFETIME_S ?? '900');

const registry = new Registry();
collectDefaultMetrics({ register: registry });
const requests = new Counter({
  name: 'demo_requests_total',
  help: 'Requests served by the demo service, by HTTP status code',
  labelNames: ['code'],
  registers: [registry],
});
const duration = new Histogram({
  name: 'demo_request_duration_seconds',
  help: 'Time to serve one request, as the service sees it',
  buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5],
  registers: [registry],
});
requests.labels('200').inc(0);

const server = http.createServer(async (req, res) => {
  if (req.url === '/metrics') {
    res.setHeader('content-type', registry.contentType);
    res.end(await registry.metrics());
    return;
  }
  const end = duration.startTimer();
  if (req.url === '/' || req.url?.startsWith('/?')) {
    res.setHeader('content-type', 'text/plain');
    res.end('ok\n');
    requests.labels('200').inc();
  } else {
    res.statusCode = 404;
    res.end('not found\n');
    requests.labels('404').inc();
  }
  end();
});
server.keepAliveTimeout = 5_000;

const parentPid = process.ppid;
const shutdown = (code: number): void => {
  server.close(() => process.exit(code));
  server.closeAllConnections();
  setTimeout(() => process.exit(code), 1000).unref();
};
process.once('SIGTERM', () => shutdown(0));
process.once('SIGINT', () => shutdown(0));
setInterval(() => {
  if (process.ppid !== parentPid) shutdown(0);
}, 1000).unref();
setTimeout(() => shutdown(0), maxLifetimeS * 1000).unref();

server.listen(port, host, () => {
  process.stdout.write(`demo service listening on http://${host}:${port}\n`);
});
