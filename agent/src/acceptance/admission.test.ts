/**
 * Planning at admission against the sandbox: the controller's webhook plans a ChaosRun while the
 * API server creates it (plan and finalizer land in the create's own write), and the controller
 * acts on that plan at first sight. The restart case is staged: a run planned in a namespace no
 * controller watches yet, one planned pod already gone (as if a controller had killed it and
 * crashed before writing status), then a controller that takes the run over.
 */
import { randomBytes } from 'node:crypto';
import {
  ADMISSION_PLAN_ANNOTATION,
  admissionPlanSchema,
  type ChaosRunSpecInput,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { useSandboxNamespace } from '@chaoscraft/test-sandbox';
import {
  CHAOS_RUN_COORDINATES,
  CHAOS_FINALIZER,
} from '@chaoscraft/backstage-plugin-chaos-node';
import {
  makeWebhookCert,
  registerAdmissionWebhook,
  applyCrds,
  ChaosRunObject,
  createDeployment,
  createRun,
  OPT_IN,
  RunningController,
  startController,
  targetPods,
  waitForRunPhase,
  watchPodDeletions,
} from '@chaoscraft/agent-testkit';

jest.setTimeout(150_000);

/** The plan the webhook put on a created run; fails the test when there is none. */
const planOf = (run: ChaosRunObject) =>
  admissionPlanSchema.parse(
    JSON.parse(run.metadata.annotations?.[ADMISSION_PLAN_ANNOTATION] ?? 'null'),
  );

describe('planning at admission, against the sandbox', () => {
  const target = useSandboxNamespace({ prefix: 'admit', labels: OPT_IN });
  const later = useSandboxNamespace({ prefix: 'admit-later', labels: OPT_IN });
  // Watched by the controller, but no webhook: a plan found here was written by the creator.
  const forged = useSandboxNamespace({
    prefix: 'admit-forged',
    labels: OPT_IN,
  });
  const agent = useSandboxNamespace({ prefix: 'agent' });
  const cert = makeWebhookCert();
  let running: RunningController;
  let unregister: (() => Promise<void>) | undefined;

  const killTwo = (namespace: string, app: string): ChaosRunSpecInput => ({
    target: {
      namespace,
      labelSelector: { app },
      selection: { mode: 'fixed', count: 2 },
    },
    faults: [{ type: 'pod-kill', gracePeriodSeconds: 0 }],
    safety: { maxBlastRadiusPercent: 30, respectPodDisruptionBudgets: false },
    duration: '2s',
  });

  beforeAll(async () => {
    await applyCrds(target.kc);
    await createDeployment(target.kc, target.namespace, 'web', 10);
    await createDeployment(target.kc, later.namespace, 'web', 10);
    await createDeployment(target.kc, forged.namespace, 'web', 10);
    running = await startController(target.kc, {
      agentNamespace: agent.namespace,
      watchNamespaces: [target.namespace, forged.namespace],
      webhookPort: 0,
      webhookHost: '127.0.0.1',
      webhookCertDir: cert.certDir,
    });
    unregister = await registerAdmissionWebhook(target.kc, {
      name: `chaoscraft-test-${randomBytes(3).toString('hex')}`,
      port: running.controller.webhookPort!,
      caBundle: cert.caBundle,
      namespaces: [target.namespace, later.namespace],
      probeNamespace: target.namespace,
      probeSpec: killTwo(target.namespace, 'web'),
    });
  });
  afterAll(async () => {
    await unregister?.();
    await running?.stop();
    cert.remove();
  });

  it('plans at admission and kills exactly the planned pods at first sight', async () => {
    const deletions = await watchPodDeletions(target.kc, target.namespace);
    try {
      const created = await createRun(
        target.kc,
        target.namespace,
        'planned',
        killTwo(target.namespace, 'web'),
      );
      expect(created.metadata.finalizers).toContain(CHAOS_FINALIZER);
      const plan = planOf(created);
      expect(plan.blastRadius).toEqual({
        selected: 2,
        eligible: 10,
        percent: 20,
        limit: 30,
      });

      const done = await waitForRunPhase(
        target.kc,
        target.namespace,
        'planned',
        ['Completed', 'Failed', 'Aborted'],
      );
      expect(done.status).toMatchObject({
        phase: 'Completed',
        blastRadius: plan.blastRadius,
      });
      expect(done.status!.phaseTransitions[0]).toMatchObject({
        phase: 'Preflight',
        reason: 'PlannedAtAdmission',
      });
      expect(targetPods(done)).toEqual(plan.targets.map(t => t.name).sort());
      expect(
        done.status!.targets.every(
          t =>
            t.phase === 'Injected' && plan.targets.some(p => p.uid === t.uid),
        ),
      ).toBe(true);
      expect([...deletions.deleted].sort()).toEqual(
        plan.targets.map(t => t.name).sort(),
      );
    } finally {
      deletions.stop();
    }
  });

  it('leaves a run it cannot act on at once to preflight: a dry run carries no plan', async () => {
    const created = await createRun(target.kc, target.namespace, 'dry', {
      ...killTwo(target.namespace, 'web'),
      dryRun: true,
    });
    expect(
      created.metadata.annotations?.[ADMISSION_PLAN_ANNOTATION],
    ).toBeUndefined();
    const done = await waitForRunPhase(target.kc, target.namespace, 'dry', [
      'Completed',
      'Failed',
      'Aborted',
    ]);
    expect(done.status).toMatchObject({ phase: 'Completed', reason: 'DryRun' });
  });

  it('refuses a plan written by the creator that does not add up, touching nothing', async () => {
    const pods = await forged.core.listNamespacedPod({
      namespace: forged.namespace,
      labelSelector: 'app=web',
    });
    // Half the pods, under a plan that claims the run's "one" and a made-up eligible count.
    const targets = pods.items
      .slice(0, 5)
      .map(pod => ({ name: pod.metadata!.name!, uid: pod.metadata!.uid! }));
    const deletions = await watchPodDeletions(target.kc, forged.namespace);
    try {
      await forged.kc
        .makeApiClient(CustomObjectsApi)
        .createNamespacedCustomObject({
          ...CHAOS_RUN_COORDINATES,
          namespace: forged.namespace,
          body: {
            apiVersion: 'chaoscraft.io/v1alpha1',
            kind: 'ChaosRun',
            metadata: {
              name: 'forged',
              finalizers: [CHAOS_FINALIZER],
              annotations: {
                [ADMISSION_PLAN_ANNOTATION]: JSON.stringify({
                  version: 1,
                  targets,
                  blastRadius: {
                    selected: 5,
                    eligible: 50,
                    percent: 10,
                    limit: 10,
                  },
                  seed: 1,
                }),
              },
            },
            spec: {
              ...killTwo(forged.namespace, 'web'),
              target: {
                namespace: forged.namespace,
                labelSelector: { app: 'web' },
                selection: { mode: 'one' },
              },
            },
          },
        });
      const done = await waitForRunPhase(
        target.kc,
        forged.namespace,
        'forged',
        ['Completed', 'Failed', 'Aborted'],
      );
      expect(done.status).toMatchObject({
        phase: 'Failed',
        verdict: 'Refused',
        reason: 'AdmissionPlanInvalid',
      });
      expect(done.status!.message).toContain(
        'the plan states 50 eligible pods; the namespace accounts for at most 10',
      );
      expect(deletions.deleted.size).toBe(0);
    } finally {
      deletions.stop();
    }
  });

  it('after a crash between the first kill and the status write, kills no pod beyond the plan', async () => {
    // No controller watches `later` yet: the run is planned, then sits there.
    const created = await createRun(
      target.kc,
      later.namespace,
      'resumed',
      killTwo(later.namespace, 'web'),
    );
    const plan = planOf(created);
    const [first, second] = plan.targets;
    const deletions = await watchPodDeletions(target.kc, later.namespace);
    let takeover: RunningController | undefined;
    try {
      // What the crashed controller did: the first planned pod is gone, nothing was written.
      await target.core.deleteNamespacedPod({
        name: first.name,
        namespace: later.namespace,
        gracePeriodSeconds: 0,
      });
      takeover = await startController(target.kc, {
        agentNamespace: agent.namespace,
        watchNamespaces: [later.namespace],
      });
      const done = await waitForRunPhase(
        target.kc,
        later.namespace,
        'resumed',
        ['Completed', 'Failed', 'Aborted'],
      );
      expect(done.status!.phase).toBe('Completed');
      const byPod = new Map(done.status!.targets.map(t => [t.pod, t]));
      expect(byPod.get(first.name)).toMatchObject({
        phase: 'Skipped',
        reason: 'ChaosTargetGone',
      });
      expect(byPod.get(second.name)).toMatchObject({
        phase: 'Injected',
        reason: 'ChaosPodKilled',
      });
      // The replacement of the first pod is never taken in its place.
      expect([...deletions.deleted].sort()).toEqual(
        [first.name, second.name].sort(),
      );
      expect(done.status!.targets).toHaveLength(2);
    } finally {
      deletions.stop();
      await takeover?.stop();
    }
  });
});
