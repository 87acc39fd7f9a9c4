/**
 * One run, one trace, through a real OTLP receiver: Jaeger (built from the Go module proxy by
 * infra/tools/build.sh, its in-memory store queried through its HTTP API). The backend plugin
 * starts the run (the chaos.run.start span, its context written on the ChaosRun), the real agent
 * controller runs it against the sandbox and writes the run's part (the run, each phase, each
 * target, each probe sample), and every span carries the Backstage run id.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { startTracing } from '@chaoscraft/agent';
import {
  applyCrds,
  createDeployment,
  getRun,
  OPT_IN,
  startController,
  TEST_CEILINGS,
  waitForRunPhase,
} from '@chaoscraft/agent-testkit';
import { CHAOS_TRACEPARENT_ANNOTATION } from '@chaoscraft/backstage-plugin-chaos-common';
import { useSandboxNamespace, waitFor } from '@chaoscraft/test-sandbox';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import request from 'supertest';
import { chaosPlugin } from './plugin';
import { chaosComponent } from './__testUtils__/entities';
import { sandboxChaosConfig } from './__testUtils__/sandboxConfig';

jest.setTimeout(180_000);

const sandbox = useSandboxNamespace({ labels: OPT_IN });
const agentHome = useSandboxNamespace();

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

type JaegerSpan = {
  spanID: string;
  startTime: number;
  duration: number;
  operationName: string;
  references: Array<{ refType: string; spanID: string }>;
  tags: Array<{ key: string; value: unknown }>;
};
const tag = (span: JaegerSpan, key: string) =>
  span.tags.find(t => t.key === key)?.value;

describe('a run is one trace', () => {
  let jaeger: ChildProcess;
  let dir: string;
  let queryUrl: string;
  let tracing: { shutdown(): Promise<void> } | undefined;

  beforeAll(async () => {
    // Built by make test before Jest starts; a warm call only finds the cached binary.
    const binary = execFileSync(
      path.resolve(__dirname, '../../../infra/tools/build.sh'),
      ['jaeger'],
      { encoding: 'utf8' },
    ).trim();
    dir = mkdtempSync(path.join(os.tmpdir(), 'cc-jaeger-'));
    const [otlp, query, grpc] = [
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    queryUrl = `http://127.0.0.1:${query}`;
    writeFileSync(
      path.join(dir, 'config.yaml'),
      `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces: { receivers: [otlp], processors: [batch], exporters: [jaeger_storage_exporter] }
  telemetry: { metrics: { level: none }, logs: { level: warn } }
extensions:
  jaeger_query: { storage: { traces: memstore }, http: { endpoint: 127.0.0.1:${query} }, grpc: { endpoint: 127.0.0.1:${grpc} } }
  jaeger_storage: { backends: { memstore: { memory: { max_traces: 1000 } } } }
receivers:
  otlp: { protocols: { grpc: { endpoint: 127.0.0.1:${otlp} } } }
processors:
  batch: { timeout: 100ms }
exporters:
  jaeger_storage_exporter: { trace_storage: memstore }
`,
    );
    jaeger = spawn(binary, ['--config', path.join(dir, 'config.yaml')], {
      stdio: 'ignore',
      cwd: dir,
    });
    await waitFor(async () => (await fetch(`${queryUrl}/api/services`)).ok, {
      timeoutMs: 30_000,
      description: 'Jaeger to answer',
    });
    // OTLP over gRPC here: the HTTP exporter loads node:http with a dynamic import, which Jest's
    // module sandbox refuses; the processes themselves export over OTLP/HTTP.
    tracing = startTracing('chaoscraft-test', {
      exporter: new OTLPTraceExporter({ url: `http://127.0.0.1:${otlp}` }),
    });
  });

  afterAll(async () => {
    await tracing?.shutdown();
    jaeger?.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('from the POST that started it to each phase, target and probe sample', async () => {
    await applyCrds(sandbox.kc);
    await createDeployment(sandbox.kc, sandbox.namespace, 'checkout', 3);
    const controller = await startController(sandbox.kc, {
      agentNamespace: agentHome.namespace,
      watchNamespaces: [sandbox.namespace],
      ceilings: TEST_CEILINGS,
    });
    const { server } = await startTestBackend({
      features: [
        chaosPlugin,
        mockServices.permissions.factory({ result: AuthorizeResult.ALLOW }),
        mockServices.rootConfig.factory({
          data: await sandboxChaosConfig(),
        }),
        catalogServiceMock.factory({
          entities: [chaosComponent({ namespace: sandbox.namespace })],
        }),
      ],
    });
    try {
      const experiment = await request(server)
        .post('/api/chaos/experiments')
        .send({
          name: 'traced-kill',
          entityRef: 'component:default/checkout',
          duration: '2s',
          target: {
            namespace: sandbox.namespace,
            labelSelector: { app: 'checkout' },
            selection: { mode: 'one' },
          },
          faults: [{ type: 'pod-kill' }],
          safety: {
            maxBlastRadiusPercent: 50,
            respectPodDisruptionBudgets: false,
          },
          hypothesis: {
            probes: [
              {
                type: 'k8s',
                name: 'checkout-available',
                deployment: 'checkout',
                minAvailableRatio: 0.3,
                interval: '1s',
              },
            ],
          },
        });
      expect(experiment.status).toBe(201);
      const started = await request(server)
        .post(`/api/chaos/experiments/${experiment.body.id}/runs`)
        .send({});
      expect(started.status).toBe(201);
      const runId: string = started.body.id;
      const done = await waitForRunPhase(
        sandbox.kc,
        sandbox.namespace,
        started.body.resourceName,
        ['Completed', 'Aborted', 'Failed'],
        90_000,
      );
      expect(done.status!.phase).toBe('Completed');
      const traceparent = (
        await getRun(sandbox.kc, sandbox.namespace, started.body.resourceName)
      ).metadata.annotations?.[CHAOS_TRACEPARENT_ANNOTATION];
      expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
      const traceId = traceparent!.split('-')[1];

      await tracing!.shutdown();
      tracing = undefined;
      const spans = await waitFor(
        async () => {
          const res = await fetch(`${queryUrl}/api/traces/${traceId}`);
          if (!res.ok) return undefined;
          const found =
            ((await res.json()) as { data: Array<{ spans: JaegerSpan[] }> })
              .data[0]?.spans ?? [];
          return found.some(s => s.operationName === 'chaos.run')
            ? found
            : undefined;
        },
        { timeoutMs: 20_000, description: `trace ${traceId} in Jaeger` },
      );
      const byName = (name: string) =>
        spans.filter(s => s.operationName === name);
      const [start] = byName('chaos.run.start');
      const [run] = byName('chaos.run');
      expect(start.references).toEqual([]);
      expect(run.references).toEqual([
        expect.objectContaining({ refType: 'CHILD_OF', spanID: start.spanID }),
      ]);
      const phases = spans
        .filter(s => s.operationName.startsWith('chaos.phase '))
        .map(s => s.operationName.slice('chaos.phase '.length));
      expect(phases).toEqual(
        expect.arrayContaining([
          'Preflight',
          'Injecting',
          'Running',
          'RollingBack',
          'Completed',
        ]),
      );
      const targets = byName('chaos.target pod-kill');
      expect(targets).toHaveLength(1);
      expect(tag(targets[0], 'k8s.pod.name')).toEqual(
        done.status!.targets[0].pod,
      );
      const samples = spans.filter(
        s => s.operationName === 'chaos.probe checkout-available',
      );
      expect(samples.length).toBeGreaterThanOrEqual(2);
      for (const span of spans.filter(s => s !== start)) {
        expect(span.references.map(r => r.spanID)).toContain(
          span === run ? start.spanID : run.spanID,
        );
      }
      // Every span carries the Backstage run id.
      expect(spans.map(s => tag(s, 'chaoscraft.run_id'))).toEqual(
        spans.map(() => runId),
      );
      // The trace as a waterfall (Jaeger's times are microseconds), for docs/observability.md.
      const t0 = Math.min(...spans.map(s => s.startTime));
      const depth = (span: JaegerSpan): number =>
        [start, run].indexOf(span) + 1 || 3;
      const waterfall = [...spans]
        .sort((a, b) => depth(a) - depth(b) || a.startTime - b.startTime)
        .map(
          s =>
            `${'  '.repeat(depth(s) - 1)}${s.operationName.padEnd(
              42 - 2 * depth(s),
            )} +${Math.round((s.startTime - t0) / 1000)} ms, ${Math.round(
              s.duration / 1000,
            )} ms`,
        );
      // eslint-disable-next-line no-console
      console.log(
        `trace ${traceId}: ${
          spans.length
        } spans: chaos.run.start -> chaos.run -> ${phases.length} phases, ${
          targets.length
        } target, ${samples.length} probe samples\n${waterfall.join('\n')}`,
      );
    } finally {
      await controller.stop();
    }
  });
});
