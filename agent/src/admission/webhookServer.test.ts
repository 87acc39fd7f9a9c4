import {
  ADMISSION_PLAN_ANNOTATION,
  chaosRunSpecSchema,
  type AdmissionPlan,
} from '@chaoscraft/backstage-plugin-chaos-common';
import https from 'node:https';
import pino from 'pino';
import { KubeConfig } from '@kubernetes/client-node';
import { makeWebhookCert } from '@chaoscraft/agent-testkit';
import { FaultRouter } from '../faults';
import { makeKubeClients } from '../kube/clients';
import { plannableAtAdmission } from './planner';
import {
  admissionPatch,
  MUTATE_CHAOSRUN_PATH,
  review,
  startAdmissionWebhook,
  WEBHOOK_IDLE_CONNECTION_MS,
} from './webhookServer';

/** Clients that are only routed, never called: a server nothing listens on. */
function offlineKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromClusterAndUser(
    { name: 'offline', server: 'https://127.0.0.1:9', skipTLSVerify: true },
    { name: 'offline' },
  );
  return kc;
}

const plan: AdmissionPlan = {
  version: 1,
  targets: [{ name: 'web-1', uid: 'u1', node: 'kwok-node-0' }],
  blastRadius: { selected: 1, eligible: 10, percent: 10, limit: 10 },
  seed: 7,
};
const spec = {
  target: {
    namespace: 'shop',
    labelSelector: { app: 'web' },
    selection: { mode: 'one' },
  },
  faults: [{ type: 'pod-kill' }],
  duration: '10s',
};
const request = (overrides: object = {}) => ({
  uid: 'req-1',
  kind: { group: 'chaoscraft.io', version: 'v1alpha1', kind: 'ChaosRun' },
  operation: 'CREATE',
  namespace: 'shop',
  object: { metadata: { name: 'run-1', namespace: 'shop' }, spec },
  ...overrides,
});
const options = (planner: () => Promise<AdmissionPlan | undefined>) => ({
  plan: planner,
  planTimeoutMs: 50,
  log: pino({ level: 'silent' }),
});
const decode = (patch: unknown) =>
  JSON.parse(Buffer.from(String(patch), 'base64').toString('utf8'));

describe('admissionPatch', () => {
  it('adds the annotation map and the finalizer list when the object has neither', () => {
    expect(admissionPatch({ metadata: {} }, plan)).toEqual([
      {
        op: 'add',
        path: '/metadata/annotations',
        value: { [ADMISSION_PLAN_ANNOTATION]: JSON.stringify(plan) },
      },
      {
        op: 'add',
        path: '/metadata/finalizers',
        value: ['chaoscraft.io/finalizer'],
      },
    ]);
  });

  it('adds to existing ones, escaping the "/" of the annotation key, and never duplicates the finalizer', () => {
    expect(
      admissionPatch(
        { metadata: { annotations: { a: 'b' }, finalizers: ['other'] } },
        plan,
      ),
    ).toEqual([
      {
        op: 'add',
        path: '/metadata/annotations/chaoscraft.io~1admission-plan',
        value: JSON.stringify(plan),
      },
      {
        op: 'add',
        path: '/metadata/finalizers/-',
        value: 'chaoscraft.io/finalizer',
      },
    ]);
    expect(
      admissionPatch(
        {
          metadata: {
            annotations: {},
            finalizers: ['chaoscraft.io/finalizer'],
          },
        },
        plan,
      ),
    ).toHaveLength(1);
  });
});

describe('review', () => {
  it('admits a planned create with the plan and finalizer as a JSON patch', async () => {
    const answer = await review(
      request(),
      options(async () => plan),
    );
    expect(answer).toMatchObject({
      uid: 'req-1',
      allowed: true,
      patchType: 'JSONPatch',
    });
    expect(decode(answer.patch)[0].value[ADMISSION_PLAN_ANNOTATION]).toBe(
      JSON.stringify(plan),
    );
  });

  it('admits unchanged what it does not plan: other operations, a bad spec, no plan, a slow plan, a failing plan', async () => {
    const planned = options(async () => plan);
    expect(await review(request({ operation: 'UPDATE' }), planned)).toEqual({
      uid: 'req-1',
      allowed: true,
    });
    expect(
      await review(
        request({ object: { metadata: {}, spec: { faults: [] } } }),
        planned,
      ),
    ).toEqual({ uid: 'req-1', allowed: true });
    expect(
      await review(
        request(),
        options(async () => undefined),
      ),
    ).toEqual({ uid: 'req-1', allowed: true });
    expect(
      await review(
        request(),
        options(() => new Promise(() => {})),
      ),
    ).toEqual({ uid: 'req-1', allowed: true });
    expect(
      await review(
        request(),
        options(async () => Promise.reject(new Error('cache down'))),
      ),
    ).toEqual({ uid: 'req-1', allowed: true });
  });

  it('takes out a plan the creator wrote, and overwrites it with its own', async () => {
    const forged = request({
      object: {
        metadata: {
          annotations: { [ADMISSION_PLAN_ANNOTATION]: '{"version":1}' },
        },
        spec,
      },
    });
    const unplanned = await review(
      forged,
      options(async () => undefined),
    );
    expect(decode(unplanned.patch)).toEqual([
      {
        op: 'remove',
        path: '/metadata/annotations/chaoscraft.io~1admission-plan',
      },
    ]);
    const planned = await review(
      forged,
      options(async () => plan),
    );
    expect(decode(planned.patch)[0]).toEqual({
      op: 'add',
      path: '/metadata/annotations/chaoscraft.io~1admission-plan',
      value: JSON.stringify(plan),
    });
  });
});

describe('startAdmissionWebhook', () => {
  it('answers an AdmissionReview over TLS and keeps the connection open longer than the API server does (90 s)', async () => {
    const cert = makeWebhookCert();
    const webhook = await startAdmissionWebhook({
      host: '127.0.0.1',
      port: 0,
      certDir: cert.certDir,
      ...options(async () => plan),
    });
    try {
      const body = JSON.stringify({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: request(),
      });
      const answer = await new Promise<{
        keepAlive: unknown;
        review: { response: { uid: string; allowed: boolean; patch: string } };
      }>((resolve, reject) => {
        const req = https.request(
          {
            host: '127.0.0.1',
            port: webhook.port,
            path: MUTATE_CHAOSRUN_PATH,
            method: 'POST',
            ca: Buffer.from(cert.caBundle, 'base64'),
            agent: new https.Agent({ keepAlive: true }),
            headers: { 'content-type': 'application/json' },
          },
          res => {
            const chunks: Buffer[] = [];
            res.on('data', chunk => chunks.push(chunk));
            res.on('end', () => {
              res.socket?.destroy();
              resolve({
                keepAlive: res.headers['keep-alive'],
                review: JSON.parse(Buffer.concat(chunks).toString('utf8')),
              });
            });
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      expect(answer.review.response).toMatchObject({
        uid: 'req-1',
        allowed: true,
      });
      expect(decode(answer.review.response.patch)[0].value).toEqual({
        [ADMISSION_PLAN_ANNOTATION]: JSON.stringify(plan),
      });
      expect(answer.keepAlive).toBe(
        `timeout=${WEBHOOK_IDLE_CONNECTION_MS / 1000}`,
      );
      expect(WEBHOOK_IDLE_CONNECTION_MS).toBeGreaterThan(90_000);
    } finally {
      await webhook.close();
      cert.remove();
    }
  });
});

describe('plannableAtAdmission', () => {
  // Routing only: no call reaches a cluster.
  const faults = FaultRouter.forController({
    clients: makeKubeClients(offlineKubeConfig()),
  });
  const parse = (extra: object) =>
    chaosRunSpecSchema.parse({ ...spec, ...extra });

  it('takes a plain pod-kill, and leaves dry runs, hypotheses, progressive steps and aborts to preflight', () => {
    expect(plannableAtAdmission(parse({}), faults)).toBe(true);
    expect(plannableAtAdmission(parse({ dryRun: true }), faults)).toBe(false);
    expect(plannableAtAdmission(parse({ abort: true }), faults)).toBe(false);
    expect(
      plannableAtAdmission(
        parse({
          hypothesis: {
            probes: [
              {
                type: 'k8s',
                name: 'up',
                deployment: 'web',
                minAvailableRatio: 0.5,
              },
            ],
          },
        }),
        faults,
      ),
    ).toBe(false);
    expect(
      plannableAtAdmission(
        parse({
          safety: {
            maxBlastRadiusPercent: 20,
            progressiveSteps: [{ selection: { mode: 'one' }, hold: '5s' }],
          },
        }),
        faults,
      ),
    ).toBe(false);
  });

  it('leaves faults a node daemon applies to preflight', () => {
    expect(faults.executorOf('network-loss')).toBe('node');
    expect(
      plannableAtAdmission(
        parse({ faults: [{ type: 'network-loss', lossPercent: 10 }] }),
        faults,
      ),
    ).toBe(false);
  });
});
