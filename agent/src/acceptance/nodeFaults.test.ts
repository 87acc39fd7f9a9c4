import { CoordinationV1Api, V1MicroTime } from '@kubernetes/client-node';
import { useSandboxNamespace } from '@chaoscraft/test-sandbox';
import {
  nodeLeaseName,
  NODE_DAEMON_LABEL,
  NODE_NAME_LABEL,
  CAPABILITIES_ANNOTATION,
} from '../kube/nodeDaemonLease';
import {
  applyCrds,
  createDeployment,
  createRun,
  OPT_IN,
  RunningController,
  startController,
  waitForRunPhase,
  TEST_CEILINGS,
} from '@chaoscraft/agent-testkit';

jest.setTimeout(120_000);

/**
 * Node faults against the sandbox's kwok pods, where no node daemon can act: preflight refuses
 * them by node, and a run whose daemon never acts is never reported Running.
 */
describe('node faults without a node daemon', () => {
  const target = useSandboxNamespace({ prefix: 'nodefault', labels: OPT_IN });
  const agent = useSandboxNamespace({ prefix: 'nodeagent' });
  let running: RunningController;
  let nodes: string[];

  beforeAll(async () => {
    await applyCrds(target.kc);
    const pods = await createDeployment(target.kc, target.namespace, 'web', 2);
    nodes = [...new Set(pods.map(pod => pod.spec!.nodeName!))];
    running = await startController(target.kc, {
      ceilings: TEST_CEILINGS,
      agentNamespace: agent.namespace,
      watchNamespaces: [target.namespace],
      injectionTimeoutMs: 2_000,
      rollbackTimeoutMs: 2_000,
    });
  });
  afterAll(async () => {
    await running?.stop();
  });

  const loss = () => ({
    target: {
      namespace: target.namespace,
      labelSelector: { app: 'web' },
      selection: { mode: 'fixed' as const, count: 2 },
    },
    faults: [{ type: 'network-loss' as const, lossPercent: 10 }],
    duration: '30s',
    safety: { maxBlastRadiusPercent: 100 },
  });

  /** A daemon lease for each target node, renewed `ageSeconds` ago. */
  async function publishLeases(ageSeconds: number): Promise<void> {
    const api = target.kc.makeApiClient(CoordinationV1Api);
    for (const node of nodes) {
      const name = nodeLeaseName(node);
      await api
        .deleteNamespacedLease({ name, namespace: agent.namespace })
        .catch(() => undefined);
      await api.createNamespacedLease({
        namespace: agent.namespace,
        body: {
          metadata: {
            name,
            labels: { [NODE_DAEMON_LABEL]: 'true', [NODE_NAME_LABEL]: node },
            annotations: {
              [CAPABILITIES_ANNOTATION]: JSON.stringify({
                netem: false,
                iptables: 'iptables',
              }),
            },
          },
          spec: {
            holderIdentity: node,
            leaseDurationSeconds: 30,
            renewTime: new V1MicroTime(Date.now() - ageSeconds * 1000),
          },
        },
      });
    }
  }

  it('refuses a node fault on nodes with no daemon, naming them', async () => {
    await createRun(target.kc, target.namespace, 'no-daemon', loss());
    const done = await waitForRunPhase(
      target.kc,
      target.namespace,
      'no-daemon',
      ['Failed', 'Completed', 'Aborted'],
    );
    expect(done.status).toMatchObject({
      phase: 'Failed',
      verdict: 'Refused',
      reason: 'NodeDaemonUnavailable',
    });
    for (const node of nodes) expect(done.status!.message).toContain(node);
    expect(done.status!.phaseTransitions.map(t => t.phase)).not.toContain(
      'Injecting',
    );
  });

  it('refuses when the daemon stopped renewing its lease, and says how long ago', async () => {
    await publishLeases(120);
    await createRun(target.kc, target.namespace, 'stale-daemon', loss());
    const done = await waitForRunPhase(
      target.kc,
      target.namespace,
      'stale-daemon',
      ['Failed', 'Completed', 'Aborted'],
    );
    expect(done.status).toMatchObject({
      phase: 'Failed',
      reason: 'NodeDaemonUnavailable',
    });
    expect(done.status!.message).toMatch(/last heartbeat 1[12]\d s ago/);
  });

  it("refuses latency on a node whose daemon has no netem, with the daemon's reason", async () => {
    await publishLeases(0);
    await createRun(target.kc, target.namespace, 'no-netem', {
      ...loss(),
      faults: [{ type: 'network-latency', latencyMs: 100 }],
    });
    const done = await waitForRunPhase(
      target.kc,
      target.namespace,
      'no-netem',
      ['Failed', 'Completed', 'Aborted'],
    );
    expect(done.status).toMatchObject({
      phase: 'Failed',
      reason: 'NodeCapabilityMissing',
    });
    expect(done.status!.message).toContain('netem unavailable');
  });

  it('never reports Running while no daemon acts, and ends on the injection timeout', async () => {
    await publishLeases(0);
    await createRun(target.kc, target.namespace, 'silent-daemon', loss());
    const done = await waitForRunPhase(
      target.kc,
      target.namespace,
      'silent-daemon',
      ['Failed', 'Completed', 'Aborted'],
      30_000,
    );
    const phases = done.status!.phaseTransitions.map(t => t.phase);
    expect(phases).toContain('Injecting');
    expect(phases).not.toContain('Running');
    expect(done.status!.reason).toBe('InjectionTimedOut');
    expect(done.status!.message).toContain('waiting for the node daemon(s) on');
    expect(done.status!.targets.every(t => t.phase === 'Skipped')).toBe(true);
  });
});
