import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { NetworkFault } from '@chaoscraft/backstage-plugin-chaos-common';
import {
  detectNetem,
  Ledger,
  NetworkInjector,
  StaticNetnsResolver,
  type LedgerEntry,
} from '@chaoscraft/agent';
import { run } from './processes';

/** The pod name the test bed's demo service stands for in the injector's eyes. */
export const DEMO_POD = { namespace: 'testbed', name: 'demo' } as const;

/** Chain of the plain-iptables fallback, inside the test bed's own namespace. */
const FALLBACK_CHAIN = 'CC-TESTBED-FAULT';

type Hook = 'INPUT' | 'OUTPUT';
type AppliedFault =
  | { via: 'injector'; entry: LedgerEntry }
  | { via: 'iptables'; hooks: Hook[] };

/** The jump from a built-in chain to the fallback chain, for the demo's eth0. */
function hookArgs(hook: Hook): string[] {
  return hook === 'OUTPUT'
    ? ['OUTPUT', '-o', 'eth0', '-j', FALLBACK_CHAIN]
    : ['INPUT', '-i', 'eth0', '-j', FALLBACK_CHAIN];
}

/**
 * Network faults on the demo service. First choice is the node daemon's own injector
 * (agent/src/faults/network/injector.ts with the agent's fault modules and ledger), with the test
 * bed's namespace standing in for the pod's, so the faults the tests abort on are the ones
 * production applies. If the injector refuses a loss or partition fault (it is being built
 * alongside), the same effect is applied with plain iptables inside the namespace, and `notes`
 * says so: the hypothesis tests are about probes seeing and reacting to real packet loss, and
 * must not hinge on another component's state of the day.
 */
export class TestbedNetworkFaults {
  readonly notes: string[] = [];
  private readonly applied: AppliedFault[] = [];
  private fallbackChainReady = false;

  private constructor(
    private readonly injector: NetworkInjector,
    private readonly netnsName: string,
    private readonly runUid: string,
  ) {}

  static async create(options: {
    dir: string;
    netnsName: string;
    netnsPath: string;
  }): Promise<TestbedNetworkFaults> {
    const { ledger } = await Ledger.open(
      path.join(options.dir, 'ledger.jsonl'),
    );
    const netem = await detectNetem();
    const injector = new NetworkInjector({
      ledger,
      resolver: new StaticNetnsResolver({
        [`${DEMO_POD.namespace}/${DEMO_POD.name}`]: options.netnsPath,
      }),
      capabilities: { netem: netem.available, iptables: 'iptables' },
    });
    return new TestbedNetworkFaults(injector, options.netnsName, randomUUID());
  }

  /** Applies one fault to the demo service; resolves once it is in place. */
  async apply(fault: NetworkFault): Promise<void> {
    try {
      // One run identity per application, so the same fault type can be applied again later.
      const entry = await this.injector.apply({
        run: {
          uid: `${this.runUid}-${this.applied.length}`,
          name: 'testbed',
          namespace: DEMO_POD.namespace,
        },
        podNamespace: DEMO_POD.namespace,
        pod: DEMO_POD.name,
        fault,
      });
      this.applied.push({ via: 'injector', entry });
    } catch (error) {
      const rule = fallbackRule(fault);
      if (!rule) throw error;
      this.note(
        `NetworkInjector failed for ${fault.type} (${
          (error as Error).message.split('\n')[0]
        }); applied with plain iptables instead`,
      );
      this.applied.push({ via: 'iptables', hooks: this.applyFallback(rule) });
    }
  }

  /** Reverts every applied fault, newest first; resolves once every rule is gone. */
  async revertAll(): Promise<void> {
    while (this.applied.length > 0) {
      const fault = this.applied.pop()!;
      if (fault.via === 'injector') {
        await this.injector.recover(fault.entry);
      } else {
        for (const hook of fault.hooks) {
          this.iptables(['-D', ...hookArgs(hook)]);
        }
        // Every fallback fault shares the chain; revertAll empties it with the last hook gone.
        this.iptables(['-F', FALLBACK_CHAIN]);
      }
    }
  }

  get active(): number {
    return this.applied.length;
  }

  private note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }

  private iptables(args: string[]): void {
    run('ip', [
      'netns',
      'exec',
      this.netnsName,
      'iptables',
      '-w',
      '5',
      ...args,
    ]);
  }

  /** Adds the rule to the fallback chain and hooks the chain in; returns the hooks to undo. */
  private applyFallback(rule: { hooks: Hook[]; match: string[] }): Hook[] {
    if (!this.fallbackChainReady) {
      this.iptables(['-N', FALLBACK_CHAIN]);
      this.fallbackChainReady = true;
    }
    this.iptables(['-A', FALLBACK_CHAIN, ...rule.match, '-j', 'DROP']);
    for (const hook of rule.hooks) {
      this.iptables(['-I', ...hookArgs(hook)]);
    }
    return rule.hooks;
  }
}

function fallbackRule(
  fault: NetworkFault,
): { hooks: Hook[]; match: string[] } | undefined {
  if (fault.type === 'network-loss') {
    const probability = Number((fault.lossPercent / 100).toFixed(6)).toString();
    return {
      hooks: ['OUTPUT'],
      match: [
        '-m',
        'statistic',
        '--mode',
        'random',
        '--probability',
        probability,
      ],
    };
  }
  if (fault.type === 'network-partition') {
    const hooks: Record<typeof fault.direction, Hook[]> = {
      egress: ['OUTPUT'],
      ingress: ['INPUT'],
      both: ['INPUT', 'OUTPUT'],
    };
    return { hooks: hooks[fault.direction], match: [] };
  }
  return undefined;
}
