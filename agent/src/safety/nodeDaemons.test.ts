import { faultSchema } from '@chaoscraft/backstage-plugin-chaos-common';
import { nodeDaemonPresence } from '../kube/nodeDaemonLease';
import { checkNodeDaemons } from './nodeDaemons';

const NOW = Date.parse('2031-01-01T00:01:00Z');
const lease = (node: string, renewed: string, netem = true) => ({
  metadata: {
    labels: { 'chaoscraft.io/node': node },
    annotations: {
      'chaoscraft.io/capabilities': JSON.stringify({
        netem,
        iptables: 'iptables',
      }),
    },
  },
  spec: {
    holderIdentity: node,
    leaseDurationSeconds: 30,
    renewTime: new Date(renewed),
  },
});
const presence = nodeDaemonPresence(
  [
    lease('fresh', '2031-01-01T00:00:50Z'),
    lease('stale', '2031-01-01T00:00:10Z'),
    lease('old-kernel', '2031-01-01T00:00:55Z', false),
  ] as never,
  NOW,
);
const executorOf = (type: string) =>
  type === 'pod-kill' ? 'controller' : 'node';
const unsupportedOn = (
  fault: { type: string },
  capabilities: { netem: boolean },
) =>
  fault.type === 'network-latency' && !capabilities.netem
    ? 'netem unavailable'
    : undefined;
const check = (type: string, nodes: (string | undefined)[]) =>
  checkNodeDaemons({
    faults: [faultSchema.parse({ type, latencyMs: 50, lossPercent: 10 })],
    nodes,
    presence,
    executorOf,
    unsupportedOn,
  });

describe('checkNodeDaemons', () => {
  it('lets controller faults through whatever the nodes', () => {
    expect(check('pod-kill', ['nowhere'])).toBeUndefined();
  });

  it('needs a fresh daemon lease on every target node', () => {
    expect(check('network-loss', ['fresh'])).toBeUndefined();
    expect(check('network-loss', ['fresh', 'stale'])).toMatchObject({
      reason: 'NodeDaemonUnavailable',
      message: expect.stringContaining('stale (last heartbeat 50 s ago)'),
    });
    expect(check('network-loss', ['kwok-node-0'])?.message).toContain(
      'none is running on kwok-node-0',
    );
    expect(check('network-loss', [undefined])?.message).toContain(
      'pods not yet scheduled',
    );
  });

  it('refuses a fault the node cannot run, naming the node and why', () => {
    expect(check('network-latency', ['fresh'])).toBeUndefined();
    expect(check('network-latency', ['fresh', 'old-kernel'])).toEqual({
      reason: 'NodeCapabilityMissing',
      message: 'network-latency cannot run on old-kernel: netem unavailable',
    });
  });
});
