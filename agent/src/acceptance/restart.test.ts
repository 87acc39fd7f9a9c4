import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { CoordinationV1Api } from '@kubernetes/client-node';
import {
  sandboxKubeconfigPath,
  useSandboxNamespace,
  waitFor,
} from '@chaoscraft/test-sandbox';
import {
  applyCrds,
  createDeployment,
  createRun,
  getRun,
  OPT_IN,
  startController,
  targetPods,
  waitForRunPhase,
  watchPodDeletions,
} from '@chaoscraft/agent-testkit';
import { CHAOS_RUN_COORDINATES } from '@chaoscraft/backstage-plugin-chaos-node';

jest.setTimeout(180_000);

const AGENT_ROOT = path.resolve(__dirname, '../..');

/** One controller replica as its own process, so that the test can SIGKILL it like a crashed pod. */
function spawnReplica(
  kubeconfig: string,
  identity: string,
  agentNamespace: string,
  watchNamespace: string,
  leaseName: string,
): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      '--require',
      require.resolve('@backstage/cli/config/nodeTransform.cjs'),
      'src/main.ts',
      'controller',
      `--kubeconfig=${kubeconfig}`,
      `--namespace=${agentNamespace}`,
      `--watch-namespaces=${watchNamespace}`,
      `--identity=${identity}`,
      `--lease-name=${leaseName}`,
      '--lease-duration=3s',
      '--renew-deadline=2s',
      '--retry-period=500ms',
      '--heartbeat-interval=1s',
      '--metrics-bind-address=127.0.0.1',
      '--metrics-port=0',
    ],
    { cwd: AGENT_ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return child;
}

describe('restart safety against the sandbox', () => {
  const target = useSandboxNamespace({ prefix: 'restart', labels: OPT_IN });
  const agent = useSandboxNamespace({ prefix: 'agent' });
  beforeAll(() => applyCrds(target.kc));

  it('a restarted agent acts only on recorded targets not yet acted on', async () => {
    const pods = await createDeployment(
      target.kc,
      target.namespace,
      'resume',
      10,
    );
    const names = pods.map(p => p.metadata!.name!).sort();
    await createRun(target.kc, target.namespace, 'resume', {
      target: {
        namespace: target.namespace,
        labelSelector: { app: 'resume' },
        selection: { mode: 'fixed', count: 3 },
      },
      faults: [{ type: 'pod-kill' }],
      duration: '2s',
      safety: { maxBlastRadiusPercent: 30 },
    });
    // What a previous leader left behind when it died mid-injection: the plan, one target
    // already acted on (Injected), two still Selected. The Injected pod is in fact alive, so
    // touching it again would show.
    const plan = names.slice(0, 3).map((name, i) => ({
      pod: name,
      uid: pods.find(p => p.metadata!.name === name)!.metadata!.uid,
      node: pods.find(p => p.metadata!.name === name)!.spec!.nodeName,
      fault: 'pod-kill' as const,
      phase: i === 0 ? ('Injected' as const) : ('Selected' as const),
      events: [],
    }));
    const current = await getRun(target.kc, target.namespace, 'resume');
    await target.customObjects.replaceNamespacedCustomObjectStatus({
      ...CHAOS_RUN_COORDINATES,
      namespace: target.namespace,
      name: 'resume',
      body: {
        ...current,
        status: {
          phase: 'Injecting',
          startedAt: new Date().toISOString(),
          heartbeatTime: new Date().toISOString(),
          blastRadius: { selected: 3, eligible: 10, percent: 30, limit: 30 },
          targets: plan,
        },
      },
    });
    const deletions = await watchPodDeletions(target.kc, target.namespace);
    const running = await startController(target.kc, {
      agentNamespace: agent.namespace,
      watchNamespaces: [target.namespace],
    });
    try {
      const done = await waitForRunPhase(
        target.kc,
        target.namespace,
        'resume',
        ['Completed', 'Failed', 'Aborted'],
      );
      expect(done.status!.phase).toBe('Completed');
      expect([...deletions.deleted].sort()).toEqual(names.slice(1, 3));
      expect(done.status!.targets.map(t => t.phase)).toEqual([
        'Injected',
        'Injected',
        'Injected',
      ]);
    } finally {
      deletions.stop();
      await running.stop();
    }
  });

  it('killing the leader mid-run: the standby finishes the run, and only planned pods are deleted', async () => {
    await createDeployment(target.kc, target.namespace, 'failover', 10);
    const kubeconfig = await sandboxKubeconfigPath();
    const leaseName = 'failover-lease';
    const replicas = new Map<string, ChildProcess>([
      [
        'replica-a',
        spawnReplica(
          kubeconfig,
          'replica-a',
          agent.namespace,
          target.namespace,
          leaseName,
        ),
      ],
      [
        'replica-b',
        spawnReplica(
          kubeconfig,
          'replica-b',
          agent.namespace,
          target.namespace,
          leaseName,
        ),
      ],
    ]);
    const coordination = target.kc.makeApiClient(CoordinationV1Api);
    const deletions = await watchPodDeletions(target.kc, target.namespace);
    try {
      const leader = await waitFor(
        async () =>
          (
            await coordination.readNamespacedLease({
              name: leaseName,
              namespace: agent.namespace,
            })
          ).spec?.holderIdentity || undefined,
        { timeoutMs: 60_000, description: 'a leader' },
      );
      await createRun(target.kc, target.namespace, 'failover', {
        target: {
          namespace: target.namespace,
          labelSelector: { app: 'failover' },
          selection: { mode: 'percent', percent: 30 },
        },
        faults: [{ type: 'pod-kill' }],
        duration: '8s',
        safety: { maxBlastRadiusPercent: 50 },
      });
      const live = await waitForRunPhase(
        target.kc,
        target.namespace,
        'failover',
        ['Running', 'Completed', 'Failed'],
      );
      expect(live.status!.phase).toBe('Running');
      const planned = targetPods(live);
      replicas.get(leader)!.kill('SIGKILL');
      const standby = [...replicas.keys()].find(id => id !== leader)!;
      await waitFor(
        async () =>
          (
            await coordination.readNamespacedLease({
              name: leaseName,
              namespace: agent.namespace,
            })
          ).spec?.holderIdentity === standby,
        { timeoutMs: 30_000, description: `${standby} to take over the lease` },
      );
      const done = await waitForRunPhase(
        target.kc,
        target.namespace,
        'failover',
        ['Completed', 'Failed', 'Aborted'],
        60_000,
      );
      expect(done.status!.phase).toBe('Completed');
      expect(targetPods(done)).toEqual(planned);
      expect([...deletions.deleted].sort()).toEqual(planned);
      expect(planned).toHaveLength(3);
    } finally {
      deletions.stop();
      for (const child of replicas.values()) {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          await new Promise(resolve => child.once('exit', resolve));
        }
      }
    }
  });
});
