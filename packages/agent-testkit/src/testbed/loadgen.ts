/**
 * A bounded load generator: LOADGEN_RATE requests per second to LOADGEN_TARGET for at most
 * LOADGEN_DURATION_S seconds, then it stops by itself. Each request uses a fresh connection (as
 * independent clients would) and fails when it takes longer than LOADGEN_TIMEOUT_MS: a timeout
 * is an error, as a user would see it.
 *
 * It counts what clients observe, `loadgen_requests_total{result="ok|error"}`, and exposes it on
 * LOADGEN_METRICS_PORT on 127.0.0.1, in the root network namespace, where faults on the service
 * cannot hide it from Prometheus. That is the error rate a steady-state hypothesis should judge:
 * the service's own counters cannot count the requests that never reached it.
 *
 * On exit it prints one JSON line: {"sent":..,"ok":..,"errors":..,"causes":{..}}.
 */
import http from 'node:http';
import { Counter, Histogram, Registry } from 'prom-client';

const target = new URL(process.env.LOADGEN_TARGET ?? 'http://127.0.0.1:8080/');
const rate = Number(process.env.LOADGEN_RATE ?? '50');
const durationS = Number(process.env.LOADGEN_DURATION_S ?? '60');
const timeoutMs = Number(process.env.LOADGEN_TIMEOUT_MS ?? '500');
const metricsPort = Number(process.env.LOADGEN_METRICS_PORT ?? '9464');

const registry = new Registry();
const requests = new Counter({
  name: 'loadgen_requests_total',
  help: 'Requests made by the load generator, by what the client observed (ok or error; timeouts are errors)',
  labelNames: ['result'],
  registers: [registry],
});
const latency = new Histogram({
  name: 'loadgen_request_duration_seconds',
  help: 'Latency of successful requests as the client observed it',
  buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1],
  registers: [registry],
});
// Both series exist from the start, so an error ratio is 0 (not "no data") while all is well.
requests.labels('ok').inc(0);
requests.labels('error').inc(0);

const tally = {
  sent: 0,
  ok: 0,
  errors: 0,
  causes: {} as Record<string, number>,
};
let inFlight = 0;

function fail(cause: string): void {
  tally.errors += 1;
  tally.causes[cause] = (tally.causes[cause] ?? 0) + 1;
  requests.labels('error').inc();
}

function fire(): void {
  tally.sent += 1;
  inFlight += 1;
  const started = performance.now();
  let settled = false;
  const timers: { deadline?: NodeJS.Timeout } = {};
  const settle = (outcome: 'ok' | string): void => {
    if (settled) return;
    settled = true;
    inFlight -= 1;
    clearTimeout(timers.deadline);
    if (outcome === 'ok') {
      tally.ok += 1;
      requests.labels('ok').inc();
      latency.observe((performance.now() - started) / 1000);
    } else {
      fail(outcome);
    }
  };
  const req = http.get(target, { agent: false }, res => {
    res.resume();
    res.once('end', () =>
      settle(res.statusCode === 200 ? 'ok' : `HTTP ${res.statusCode}`),
    );
    res.once('error', error =>
      settle((error as NodeJS.ErrnoException).code ?? 'response error'),
    );
  });
  timers.deadline = setTimeout(() => {
    settle('timeout');
    req.destroy();
  }, timeoutMs);
  req.once('error', error =>
    settle((error as NodeJS.ErrnoException).code ?? 'request error'),
  );
}

const metricsServer = http.createServer(async (req, res) => {
  if (req.url === '/metrics') {
    res.setHeader('content-type', registry.contentType);
    res.end(await registry.metrics());
    return;
  }
  res.statusCode = 404;
  res.end();
});

const periodMs = 1000 / rate;
const startedAt = performance.now();
let sent = 0;
// Open loop on a fixed schedule: slow answers do not slow the offered load down.
const ticker = setInterval(() => {
  const due = Math.floor((performance.now() - startedAt) / periodMs);
  while (sent < due) {
    sent += 1;
    fire();
  }
}, Math.max(5, Math.min(20, periodMs)));

const parentPid = process.ppid;
let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  clearInterval(ticker);
  // Let in-flight requests end (each is bounded by the timeout), then report and leave.
  const deadline = Date.now() + timeoutMs + 200;
  const finish = setInterval(() => {
    if (inFlight === 0 || Date.now() > deadline) {
      clearInterval(finish);
      process.stdout.write(`${JSON.stringify(tally)}\n`);
      metricsServer.close();
      metricsServer.closeAllConnections();
      process.exit(0);
    }
  }, 20);
}
setTimeout(stop, durationS * 1000);
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
setInterval(() => {
  if (process.ppid !== parentPid) stop();
}, 1000).unref();

metricsServer.listen(metricsPort, '127.0.0.1', () => {
  process.stdout.write(
    `loadgen: ${rate}/s to ${target} for at most ${durationS}s, timeout ${timeoutMs} ms; metrics on 127.0.0.1:${metricsPort}\n`,
  );
});
