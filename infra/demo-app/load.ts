/**
 * The demo's users: a bounded, always-on load generator that runs as a pod beside the demo app
 * and measures what its users see. The app's own `demo_requests_total{code}` counts what the
 * server answered; a dropped or partitioned packet never reaches that counter, so the error rate
 * a steady-state probe checks is this one: every request that did not come back 200 in time.
 *
 *   LOAD_TARGETS     `service:rps,...` (default `checkout:20`): requests per second to each
 *                    Service's ready endpoints, round-robin, one new connection per request
 *   LOAD_NAMESPACE   namespace of those Services (default: this pod's own)
 *   LOAD_TIMEOUT_MS  a request slower than this counts as failed (default 1000)
 *   LOAD_MAX_IN_FLIGHT  per service; beyond it a tick sends nothing (default 100)
 *   LOAD_PORT        /metrics and /ready (default 8080)
 *
 * Endpoints come from the Services' EndpointSlices, read every 2 s through the API server with
 * the pod's service account (the sandbox has no kube-proxy or cluster DNS: a client-side load
 * balancer, as service meshes do it). Only ready endpoints get traffic.
 *
 * Metrics: demo_client_requests_total{service,code} (code: the HTTP status, `timeout` or
 * `error`), demo_client_request_duration_seconds{service}, demo_client_endpoints{service},
 * demo_client_skipped_total{service}.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
} from 'prom-client';

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

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

interface Target {
  service: string;
  rps: number;
}

function parseTargets(raw: string): Target[] {
  return raw.split(',').map(part => {
    const match = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?):(\d+(\.\d+)?)$/.exec(
      part.trim(),
    );
    if (!match || Number(match[3]) <= 0 || Number(match[3]) > 1000) {
      throw new Error(
        `LOAD_TARGETS: '${part}' is not service:rps with 0 < rps <= 1000`,
      );
    }
    return { service: match[1], rps: Number(match[3]) };
  });
}

const targets = parseTargets(process.env.LOAD_TARGETS ?? 'checkout:20');
const timeoutMs = numberFromEnv('LOAD_TIMEOUT_MS', 1000, 10, 60_000);
const maxInFlight = numberFromEnv('LOAD_MAX_IN_FLIGHT', 100, 1, 10_000);
const port = numberFromEnv('LOAD_PORT', 8080, 1, 65535);
const namespace =
  process.env.LOAD_NAMESPACE ||
  readFileSync(`${SA_DIR}/namespace`, 'utf8').trim();

const registry = new Registry();
collectDefaultMetrics({ register: registry });
const requests = new Counter({
  name: 'demo_client_requests_total',
  help: "Requests the demo's users sent, by outcome: the HTTP status, timeout or error",
  labelNames: ['service', 'code'],
  registers: [registry],
});
const duration = new Histogram({
  name: 'demo_client_request_duration_seconds',
  help: 'Time until the answer came back, as the users saw it',
  labelNames: ['service'],
  buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1],
  registers: [registry],
});
const endpointsGauge = new Gauge({
  name: 'demo_client_endpoints',
  help: 'Ready endpoints the load goes to',
  labelNames: ['service'],
  registers: [registry],
});
const skipped = new Counter({
  name: 'demo_client_skipped_total',
  help: 'Requests not sent because too many were in flight (the bound on the load)',
  labelNames: ['service'],
  registers: [registry],
});
// Every outcome exists from the start, so rate() over the errors is 0 rather than empty.
for (const { service } of targets) {
  for (const code of ['200', '500', 'timeout', 'error'])
    requests.labels(service, code).inc(0);
  skipped.labels(service).inc(0);
}

function log(message: string): void {
  process.stdout.write(`${new Date().toISOString()} demo-load: ${message}\n`);
}

// ---- endpoints, from the API server ----

interface EndpointSlice {
  ports?: Array<{ name?: string; port?: number }>;
  endpoints?: Array<{ addresses: string[]; conditions?: { ready?: boolean } }>;
}

const apiHost = process.env.KUBERNETES_SERVICE_HOST;
const apiPort = process.env.KUBERNETES_SERVICE_PORT ?? '443';
const ca = apiHost ? readFileSync(`${SA_DIR}/ca.crt`) : undefined;

function getJson<T>(path: string): Promise<T> {
  // The token is re-read on every call: the kubelet rotates it.
  const token = readFileSync(`${SA_DIR}/token`, 'utf8').trim();
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: apiHost,
        port: apiPort,
        path,
        ca,
        headers: { authorization: `Bearer ${token}` },
        timeout: 5000,
      },
      res => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', chunk => (body += chunk));
        res.on('end', () => {
          if (res.statusCode !== 200)
            reject(
              new Error(`GET ${path}: ${res.statusCode} ${body.slice(0, 200)}`),
            );
          else resolve(JSON.parse(body) as T);
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

const endpoints = new Map<string, string[]>();

async function refreshEndpoints(service: string): Promise<void> {
  const selector = encodeURIComponent(`kubernetes.io/service-name=${service}`);
  const list = await getJson<{ items: EndpointSlice[] }>(
    `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices?labelSelector=${selector}`,
  );
  const found = list.items.flatMap(slice => {
    const slicePort = slice.ports?.[0]?.port;
    if (!slicePort) return [];
    return (slice.endpoints ?? [])
      .filter(e => e.conditions?.ready !== false)
      .flatMap(e => e.addresses.map(address => `${address}:${slicePort}`));
  });
  const before = endpoints.get(service)?.length;
  endpoints.set(service, found.sort());
  endpointsGauge.labels(service).set(found.length);
  if (before !== found.length)
    log(`${service}: ${found.length} ready endpoint(s)`);
}

async function refreshAll(): Promise<void> {
  await Promise.all(
    targets.map(({ service }) =>
      refreshEndpoints(service).catch(error =>
        log(`${service}: endpoints not refreshed: ${(error as Error).message}`),
      ),
    ),
  );
}

// ---- the load ----

const inFlight = new Map<string, number>();
let turn = 0;

function send(service: string): void {
  const list = endpoints.get(service) ?? [];
  if (list.length === 0) return;
  if ((inFlight.get(service) ?? 0) >= maxInFlight) {
    skipped.labels(service).inc();
    return;
  }
  const [host, hostPort] = list[turn++ % list.length].split(':');
  inFlight.set(service, (inFlight.get(service) ?? 0) + 1);
  const end = duration.labels(service).startTimer();
  let settled = false;
  const settle = (code: string): void => {
    if (settled) return;
    settled = true;
    inFlight.set(service, (inFlight.get(service) ?? 1) - 1);
    requests.labels(service, code).inc();
    end();
  };
  // agent: false: a new connection per request, as many independent users would open, so a
  // lost handshake packet is felt as users feel it.
  const req = http.get(
    {
      host,
      port: Number(hostPort),
      path: '/',
      agent: false,
      timeout: timeoutMs,
    },
    res => {
      res.resume();
      res.on('end', () => settle(String(res.statusCode)));
      res.on('error', () => settle('error'));
    },
  );
  const deadline = setTimeout(() => {
    settle('timeout');
    req.destroy();
  }, timeoutMs);
  req.on('close', () => clearTimeout(deadline));
  req.on('timeout', () => {
    settle('timeout');
    req.destroy();
  });
  req.on('error', () => settle('error'));
}

const TICK_MS = 100;
const credit = new Map<string, number>();

function tick(): void {
  for (const { service, rps } of targets) {
    // Fractional rates accumulate, so 2.5 rps sends 5 requests every 2 s.
    let due = (credit.get(service) ?? 0) + (rps * TICK_MS) / 1000;
    while (due >= 1) {
      send(service);
      due -= 1;
    }
    credit.set(service, due);
  }
}

const server = http.createServer(async (req, res) => {
  if (req.url === '/metrics') {
    res.setHeader('content-type', registry.contentType);
    res.end(await registry.metrics());
    return;
  }
  if (req.url === '/ready') {
    res.end('ready\n');
    return;
  }
  res.statusCode = 404;
  res.end('not found\n');
});

process.once('SIGTERM', () => process.exit(0));
process.once('SIGINT', () => process.exit(0));

server.listen(port, '0.0.0.0', () => {
  log(
    `sending ${targets
      .map(t => `${t.rps}/s to ${t.service}`)
      .join(', ')} in ${namespace}; ` +
      `timeout ${timeoutMs} ms, at most ${maxInFlight} in flight; metrics on :${port}`,
  );
  void refreshAll();
  setInterval(() => void refreshAll(), 2000);
  setInterval(tick, TICK_MS);
});
