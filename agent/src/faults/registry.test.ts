import { FAULT_TYPES } from '@chaoscraft/backstage-plugin-chaos-common';
import { KubeConfig } from '@kubernetes/client-node';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeKubeClients } from '../kube/clients';
import { Ledger } from '../node/Ledger';
import { StaticNetnsResolver } from '../node/netns';
import { FAULT_MODULES, FaultRouter } from './registry';
import { UnknownFaultTypeError } from './types';

/** Clients that are only routed, never called: a server nothing listens on. */
function offlineKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromClusterAndUser(
    { name: 'offline', server: 'https://127.0.0.1:9', skipTLSVerify: true },
    { name: 'offline' },
  );
  return kc;
}

describe('the fault registry', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cc-registry-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const controller = () =>
    FaultRouter.forController({
      clients: makeKubeClients(offlineKubeConfig()),
    });
  const node = async () =>
    FaultRouter.forNode({
      ledger: (await Ledger.open(path.join(dir, `ledger-${Math.random()}`)))
        .ledger,
      resolver: new StaticNetnsResolver({}),
      capabilities: { netem: false, iptables: 'iptables' },
    });

  it('has one module per fault type of the model, each with one executor', () => {
    const types = FAULT_MODULES.map(module => module.type);
    expect(new Set(types).size).toBe(types.length);
    expect([...types].sort()).toEqual([...FAULT_TYPES].sort());
    expect(FAULT_MODULES.find(m => m.type === 'pod-kill')?.executor).toBe(
      'controller',
    );
    expect(
      FAULT_MODULES.filter(m => m.type !== 'pod-kill').every(
        m => m.executor === 'node',
      ),
    ).toBe(true);
  });

  it('routes each executor its own faults, and knows where the others run', async () => {
    const forController = controller();
    const forNode = await node();
    expect(forController.route('pod-kill').type).toBe('pod-kill');
    expect(forNode.route('network-loss').type).toBe('network-loss');
    expect(forController.executorOf('network-loss')).toBe('node');
    expect(forNode.executorOf('pod-kill')).toBe('controller');
    expect(() => forController.route('network-loss')).toThrow(
      /executed by the node, not here/,
    );
    expect(() => forNode.route('pod-kill')).toThrow(UnknownFaultTypeError);
  });

  it('refuses an unknown type with a typed error', () => {
    const router = controller();
    expect(router.supports('no-such-fault')).toBe(false);
    expect(router.executorOf('no-such-fault')).toBeUndefined();
    expect(() => router.route('no-such-fault')).toThrow(UnknownFaultTypeError);
  });
});
