import {
  useSandboxNamespace,
  waitFor,
  waitForReadyPods,
} from '@chaoscraft/test-sandbox';
import {
  applyCrds,
  createDeployment,
  createRun,
  getRun,
  OPT_IN,
  RunningController,
  startController,
  targetPods,
  waitForRunPhase,
  watchPodDeletions,
} from '@chaoscraft/agent-testkit';
import { CHAOS_RUN_COORDINATES } from '@chaoscraft/backstage-plugin-chaos-node';

jest.setTimeout(120_000);

describe('pod-kill against the sandbox', () => {
  const target = useSandboxNamespace({ prefix: 'podkill', labels: OPT_IN });
  const agent = useSandboxNamespace({ prefix: 'agent' });
  let running: RunningController;

  beforeAll(async () => {
    await applyCrds(target.kc);
    running = await startController(target.kc, {
      agentNamespace: agent.namespace,
      watchNamespaces: [target.namespace],
    });
  });
  afterAll(async () => {
    await running?.stop();
  });

  it('kills 1 of 10 pods, records the target, and the ReplicaSet replaces it', async () => {
    const before = await createDeployment(
      target.kc,
      target.namespace,
      'one',
      10,
    );
    const deletions = await watchPodDeletions(target.kc, target.namespace);
    try {
      await createRun(target.kc, target.namespace, 'kill-one', {
        target: {
          namespace: target.namespace,
          labelSelector: { app: 'one' },
          selection: { mode: 'one' },
        },
        faults: [{ type: 'pod-kill' }],
        duration: '2s',
      });
      const done = await waitForRunPhase(
        target.kc,
        target.namespace,
        'kill-one',
        ['Completed', 'Failed', 'Aborted'],
      );
      expect(done.status).toMatchObject({
        phase: 'Completed',
        blastRadius: { selected: 1, eligible: 10, percent: 10, limit: 10 },
      });
      const [record] = done.status!.targets;
      expect(record).toMatchObject({
        fault: 'pod-kill',
        phase: 'Injected',
        reason: 'ChaosPodKilled',
      });
      expect(record.uid).toBe(
        before.find(p => p.metadata!.name === record.pod)!.metadata!.uid,
      );
      expect(record.node).toMatch(/^kwok-node-/);
      expect(record.events.map(e => e.reason)).toEqual([
        'ChaosTargetSelected',
        'ChaosPodKilled',
      ]);
      expect([...deletions.deleted]).toEqual([record.pod]);
      const after = await waitForReadyPods(
        target.core,
        target.namespace,
        'app=one',
        10,
      );
      expect(after.map(p => p.metadata!.name)).not.toContain(record.pod);
      const events = await waitFor(async () => {
        const list = await target.core.listNamespacedEvent({
          namespace: target.namespace,
          fieldSelector: `involvedObject.name=${record.pod}`,
        });
        return list.items.find(e => e.reason === 'ChaosPodKilled');
      });
      expect(events.message).toContain('kill-one');
      // The finalizer goes in a write after the terminal status: wait for it rather than race it.
      await waitFor(
        async () => {
          const latest = await getRun(target.kc, target.namespace, 'kill-one');
          return !(latest.metadata.finalizers ?? []).includes(
            'chaoscraft.io/finalizer',
          );
        },
        {
          timeoutMs: 30_000,
          description: 'the finalizer of kill-one to be removed',
        },
      );
    } finally {
      deletions.stop();
    }
  });

  it('kills 30% of 10 (= 3) with the cap raised to 50%', async () => {
    await createDeployment(target.kc, target.namespace, 'thirty', 10);
    const deletions = await watchPodDeletions(target.kc, target.namespace);
    try {
      await createRun(target.kc, target.namespace, 'kill-thirty', {
        target: {
          namespace: target.namespace,
          labelSelector: { app: 'thirty' },
          selection: { mode: 'percent', percent: 30 },
        },
        faults: [{ type: 'pod-kill' }],
        duration: '2s',
        safety: { maxBlastRadiusPercent: 50 },
      });
      const done = await waitForRunPhase(
        target.kc,
        target.namespace,
        'kill-thirty',
        ['Completed', 'Failed', 'Aborted'],
      );
      expect(done.status).toMatchObject({
        phase: 'Completed',
        blastRadius: { selected: 3, eligible: 10, percent: 30, limit: 50 },
      });
      expect(done.status!.targets.every(t => t.phase === 'Injected')).toBe(
        true,
      );
      expect([...deletions.deleted].sort()).toEqual(targetPods(done));
      await waitForReadyPods(target.core, target.namespace, 'app=thirty', 10);
    } finally {
      deletions.stop();
    }
  });

  it('refuses 50% under the default cap with BlastRadiusExceeded and deletes nothing', async () => {
    await createDeployment(target.kc, target.namespace, 'half', 10);
    const deletions = await watchPodDeletions(target.kc, target.namespace);
    try {
      await createRun(target.kc, target.namespace, 'kill-half', {
        target: {
          namespace: target.namespace,
          labelSelector: { app: 'half' },
          selection: { mode: 'percent', percent: 50 },
        },
        faults: [{ type: 'pod-kill' }],
      });
      const done = await waitForRunPhase(
        target.kc,
        target.namespace,
        'kill-half',
        ['Completed', 'Failed', 'Aborted'],
      );
      expect(done.status).toMatchObject({
        phase: 'Failed',
        verdict: 'Refused',
        reason: 'BlastRadiusExceeded',
        blastRadius: { selected: 5, eligible: 10, percent: 50, limit: 10 },
      });
      expect(done.status!.message).toContain('above the limit of 10%');
      expect(done.status!.targets).toEqual([]);
      expect(deletions.deleted.size).toBe(0);
    } finally {
      deletions.stop();
    }
  });

  it('dry run deletes nothing and lists the targets a real run with the same seed picks', async () => {
    await createDeployment(target.kc, target.namespace, 'dry', 10);
    const deletions = await watchPodDeletions(target.kc, target.namespace);
    const spec = {
      target: {
        namespace: target.namespace,
        labelSelector: { app: 'dry' },
        selection: { mode: 'fixed' as const, count: 2 },
      },
      faults: [{ type: 'pod-kill' as const }],
      duration: '1s',
      seed: 20240611,
      safety: { maxBlastRadiusPercent: 20 },
    };
    try {
      await createRun(target.kc, target.namespace, 'dry', {
        ...spec,
        dryRun: true,
      });
      const dry = await waitForRunPhase(target.kc, target.namespace, 'dry', [
        'Completed',
        'Failed',
        'Aborted',
      ]);
      expect(dry.status).toMatchObject({
        phase: 'Completed',
        reason: 'DryRun',
        blastRadius: { selected: 2, eligible: 10, percent: 20 },
      });
      expect(
        dry.status!.targets.every(
          t => t.phase === 'Skipped' && t.reason === 'DryRun',
        ),
      ).toBe(true);
      expect(deletions.deleted.size).toBe(0);

      await createRun(target.kc, target.namespace, 'real', spec);
      const real = await waitForRunPhase(target.kc, target.namespace, 'real', [
        'Completed',
        'Failed',
        'Aborted',
      ]);
      expect(targetPods(real)).toEqual(targetPods(dry));
      expect([...deletions.deleted].sort()).toEqual(targetPods(dry));
    } finally {
      deletions.stop();
    }
  });

  it('with respectPodDisruptionBudgets false deletes directly, and abort stops a run early', async () => {
    await createDeployment(target.kc, target.namespace, 'plain', 10);
    await createRun(target.kc, target.namespace, 'plain', {
      target: { namespace: target.namespace, labelSelector: { app: 'plain' } },
      faults: [{ type: 'pod-kill', gracePeriodSeconds: 1 }],
      duration: '10m',
      safety: { respectPodDisruptionBudgets: false },
    });
    const runningRun = await waitForRunPhase(
      target.kc,
      target.namespace,
      'plain',
      ['Running', 'Completed', 'Failed'],
    );
    expect(runningRun.status!.targets[0].message).toContain('deleted by chaos');
    await target.customObjects.patchNamespacedCustomObject({
      ...CHAOS_RUN_COORDINATES,
      namespace: target.namespace,
      name: 'plain',
      body: [{ op: 'add', path: '/spec/abort', value: true }],
    });
    const aborted = await waitForRunPhase(
      target.kc,
      target.namespace,
      'plain',
      ['Aborted', 'Completed', 'Failed'],
      15_000,
    );
    expect(aborted.status).toMatchObject({
      phase: 'Aborted',
      reason: 'AbortRequested',
    });
  });
});
