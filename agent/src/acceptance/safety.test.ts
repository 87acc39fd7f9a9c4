import { DEFAULT_CEILINGS } from '@chaoscraft/backstage-plugin-chaos-common';
import {
  expectApiError,
  useSandboxNamespace,
  waitFor,
} from '@chaoscraft/test-sandbox';
import {
  applyCrds,
  createRun,
  OPT_IN,
  RunningController,
  startController,
  waitForRunPhase,
  watchPodDeletions,
} from '@chaoscraft/agent-testkit';

jest.setTimeout(120_000);

describe('preflight safety against the sandbox', () => {
  const target = useSandboxNamespace({ prefix: 'safety', labels: OPT_IN });
  const notOptedIn = useSandboxNamespace({ prefix: 'no-optin' });
  const agent = useSandboxNamespace({ prefix: 'agent' });
  let running: RunningController;

  beforeAll(async () => {
    await applyCrds(target.kc);
    running = await startController(target.kc, {
      agentNamespace: agent.namespace,
      watchNamespaces: [
        target.namespace,
        notOptedIn.namespace,
        agent.namespace,
      ],
    });
  });
  afterAll(async () => {
    await running?.stop();
  });

  const podKill = (namespace: string) => ({
    target: { namespace, labelSelector: { app: 'web' } },
    faults: [{ type: 'pod-kill' as const }],
  });

  it('refuses protected namespaces: kube-system and the agent namespace', async () => {
    await createRun(
      target.kc,
      target.namespace,
      'kube-system',
      podKill('kube-system'),
    );
    await createRun(
      target.kc,
      agent.namespace,
      'own',
      podKill(agent.namespace),
    );
    for (const [namespace, name, protectedNs] of [
      [target.namespace, 'kube-system', 'kube-system'],
      [agent.namespace, 'own', agent.namespace],
    ]) {
      const done = await waitForRunPhase(target.kc, namespace, name, [
        'Failed',
        'Completed',
        'Aborted',
      ]);
      expect(done.status).toMatchObject({
        phase: 'Failed',
        verdict: 'Refused',
        reason: 'ProtectedNamespace',
      });
      expect(done.status!.message).toContain(protectedNs);
    }
  });

  it('refuses a namespace that has not opted in', async () => {
    await createRun(
      target.kc,
      notOptedIn.namespace,
      'not-opted-in',
      podKill(notOptedIn.namespace),
    );
    const done = await waitForRunPhase(
      target.kc,
      notOptedIn.namespace,
      'not-opted-in',
      ['Failed', 'Completed', 'Aborted'],
    );
    expect(done.status).toMatchObject({
      phase: 'Failed',
      verdict: 'Refused',
      reason: 'NamespaceNotOptedIn',
    });
    expect(done.status!.message).toContain('chaoscraft.io/chaos-enabled=true');
    expect(
      done.status!.conditions.find(c => c.type === 'Preflight'),
    ).toMatchObject({ status: 'False', reason: 'NamespaceNotOptedIn' });
  });

  it('a PodDisruptionBudget blocks eviction: targets Blocked with its name, no more disrupted than it allows', async () => {
    // Bare pods: nothing replaces an evicted one, so "allowed disruptions" cannot refill mid-test.
    for (let i = 0; i < 10; i++) {
      await target.core.createNamespacedPod({
        namespace: target.namespace,
        body: {
          metadata: { name: `guarded-${i}`, labels: { app: 'guarded' } },
          spec: {
            containers: [{ name: 'app', image: 'chaoscraft-demo/app:1' }],
          },
        },
      });
    }
    await target.policy.createNamespacedPodDisruptionBudget({
      namespace: target.namespace,
      body: {
        metadata: { name: 'guarded-pdb' },
        spec: {
          minAvailable: 9,
          selector: { matchLabels: { app: 'guarded' } },
        },
      },
    });
    await waitFor(
      async () => {
        const pdb = await target.policy.readNamespacedPodDisruptionBudget({
          name: 'guarded-pdb',
          namespace: target.namespace,
        });
        return (
          pdb.status?.observedGeneration === pdb.metadata?.generation &&
          pdb.status?.currentHealthy === 10 &&
          pdb.status.disruptionsAllowed === 1
        );
      },
      { description: 'PDB observed with 1 disruption allowed' },
    );
    const deletions = await watchPodDeletions(target.kc, target.namespace);
    try {
      await createRun(target.kc, target.namespace, 'pdb', {
        target: {
          namespace: target.namespace,
          labelSelector: { app: 'guarded' },
          selection: { mode: 'fixed', count: 3 },
        },
        faults: [{ type: 'pod-kill' }],
        duration: '1s',
        safety: { maxBlastRadiusPercent: 30 },
      });
      const done = await waitForRunPhase(target.kc, target.namespace, 'pdb', [
        'Completed',
        'Failed',
        'Aborted',
      ]);
      const blocked = done.status!.targets.filter(t => t.phase === 'Blocked');
      const injected = done.status!.targets.filter(t => t.phase === 'Injected');
      expect(injected.length).toBeLessThanOrEqual(1);
      expect(blocked.length).toBe(3 - injected.length);
      for (const record of blocked) {
        expect(record.reason).toBe('ChaosEvictionBlocked');
        expect(record.message).toContain('guarded-pdb');
      }
      expect(deletions.deleted.size).toBe(injected.length);
      const pods = await target.core.listNamespacedPod({
        namespace: target.namespace,
        labelSelector: 'app=guarded',
      });
      expect(
        pods.items.filter(p => !p.metadata?.deletionTimestamp).length,
      ).toBeGreaterThanOrEqual(9);
      const event = await waitFor(async () => {
        const list = await target.core.listNamespacedEvent({
          namespace: target.namespace,
          fieldSelector: `involvedObject.name=${blocked[0].pod}`,
        });
        return list.items.find(e => e.reason === 'ChaosEvictionBlocked');
      });
      expect(event.message).toContain('guarded-pdb');
    } finally {
      deletions.stop();
    }
  });

  it('the API server rejects a spec that violates the schema, naming the field', async () => {
    const percentMissing = await expectApiError(
      createRun(target.kc, target.namespace, 'bad-percent', {
        target: {
          namespace: target.namespace,
          labelSelector: { app: 'web' },
          selection: { mode: 'percent' },
        },
        faults: [{ type: 'pod-kill' }],
      }),
      422,
    );
    expect(percentMissing.message).toContain('spec.target.selection.percent');
    const emptySelector = await expectApiError(
      createRun(target.kc, target.namespace, 'bad-selector', {
        target: { namespace: target.namespace, labelSelector: {} },
        faults: [{ type: 'pod-kill' }],
      }),
      422,
    );
    expect(emptySelector.message).toContain('spec.target.labelSelector');
    const badCap = await expectApiError(
      createRun(target.kc, target.namespace, 'bad-cap', {
        target: { namespace: target.namespace, labelSelector: { app: 'web' } },
        faults: [{ type: 'pod-kill' }],
        safety: { maxBlastRadiusPercent: 500 },
      }),
      422,
    );
    expect(badCap.message).toContain('spec.safety.maxBlastRadiusPercent');
    // Records name their fault by type, so the list is a map keyed on it.
    const twoOfAType = await expectApiError(
      createRun(target.kc, target.namespace, 'two-kills', {
        target: { namespace: target.namespace, labelSelector: { app: 'web' } },
        faults: [
          { type: 'pod-kill' },
          { type: 'network-loss', lossPercent: 10 },
          { type: 'pod-kill', gracePeriodSeconds: 0 },
        ],
      }),
      422,
    );
    expect(twoOfAType.message).toContain('spec.faults[2]');
    expect(twoOfAType.message).toContain('Duplicate value');
  });
});

describe("the operator's ceilings, enforced by the agent itself", () => {
  const target = useSandboxNamespace({ prefix: 'ceilings', labels: OPT_IN });
  const agent = useSandboxNamespace({ prefix: 'ceilagent' });
  let running: RunningController;

  beforeAll(async () => {
    await applyCrds(target.kc);
    running = await startController(target.kc, {
      agentNamespace: agent.namespace,
      watchNamespaces: [target.namespace],
      ceilings: {
        ...DEFAULT_CEILINGS,
        maxBlastRadiusPercent: 20,
        allowedFaultTypes: ['pod-kill'],
      },
    });
  });
  afterAll(async () => {
    await running?.stop();
  });

  it('refuses a kubectl-made run above the ceilings, naming each field, and touches nothing', async () => {
    const deletions = await watchPodDeletions(target.kc, target.namespace);
    try {
      await createRun(target.kc, target.namespace, 'too-wide', {
        target: { namespace: target.namespace, labelSelector: { app: 'web' } },
        faults: [
          { type: 'pod-kill' },
          { type: 'network-loss', lossPercent: 10 },
        ],
        safety: { maxBlastRadiusPercent: 50 },
        hypothesis: {
          probes: [
            {
              type: 'http',
              name: 'metadata',
              url: 'http://169.254.169.254/latest/meta-data/',
            },
          ],
        },
      });
      const done = await waitForRunPhase(
        target.kc,
        target.namespace,
        'too-wide',
        ['Failed', 'Completed', 'Aborted'],
      );
      expect(done.status).toMatchObject({
        phase: 'Failed',
        verdict: 'Refused',
        reason: 'CeilingExceeded',
      });
      expect(done.status!.message).toContain(
        'spec.safety.maxBlastRadiusPercent',
      );
      expect(done.status!.message).toContain('network-loss');
      expect(done.status!.message).toContain('169.254.169.254');
      expect(done.status!.targets).toEqual([]);
      expect(deletions.deleted.size).toBe(0);
    } finally {
      deletions.stop();
    }
  });
});
