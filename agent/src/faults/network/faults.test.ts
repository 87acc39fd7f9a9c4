import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NetworkFault } from '@chaoscraft/backstage-plugin-chaos-common';
import {
  networkFaultSchemaFor,
  kernelHasNetem,
  LabPodName,
  NetnsLab,
  netnsUnavailableReason,
} from '@chaoscraft/agent-testkit';
import { Ledger } from '../../node/Ledger';
import { StaticNetnsResolver } from '../../node/netns';
import { NsenterCommands } from './exec';
import { NetworkInjector, NetworkTarget, networkTargetKey } from './injector';
import { FaultUnsupportedError } from './types';

/**
 * Every network fault against real traffic between network namespaces, driven through the
 * same injector the node daemon uses (ledger included), without Kubernetes.
 */
const unavailable = netnsUnavailableReason();
const netem = kernelHasNetem();
const describeNetns = unavailable ? describe.skip : describe;
if (unavailable) {
  // eslint-disable-next-line no-console
  console.warn(`SKIPPED network fault tests: ${unavailable}`);
}

const TCP = 5201;
const UDP = 5202;

describeNetns('network faults in real network namespaces', () => {
  let lab: NetnsLab;
  let dir: string;
  let injector: NetworkInjector;
  let ledger: Ledger;
  let runCounter = 0;

  beforeAll(async () => {
    lab = NetnsLab.create(`cc-net-${process.pid}-f`);
    dir = mkdtempSync(path.join(os.tmpdir(), 'cc-net-ledger-'));
    ledger = (await Ledger.open(path.join(dir, 'ledger.jsonl'))).ledger;
    const map = Object.fromEntries(
      (['a', 'b', 'c'] as LabPodName[]).map(name => [
        `lab/${name}`,
        lab.pods[name].path,
      ]),
    );
    injector = new NetworkInjector({
      ledger,
      resolver: new StaticNetnsResolver(map),
      capabilities: { netem: netem.available, iptables: 'iptables' },
    });
    await lab.serve('b', { tcp: TCP, udp: UDP });
    await lab.serve('c', { tcp: TCP, udp: UDP });
  }, 30_000);

  afterAll(() => {
    lab?.destroy();
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Every test ends with expectClean(); this only keeps a failed test from spilling into the next.
  afterEach(async () => {
    for (const entry of ledger.entries()) {
      await injector.recover(entry);
    }
  });

  function expectClean(): void {
    for (const pod of ['a', 'b', 'c'] as LabPodName[]) {
      expect(lab.leftovers(pod)).toEqual({ qdiscs: [], iptables: [] });
    }
    expect(ledger.entries()).toEqual([]);
  }

  function target(fault: NetworkFault): NetworkTarget {
    runCounter++;
    return {
      run: {
        uid: `run-${runCounter}`,
        name: `run-${runCounter}`,
        namespace: 'lab',
      },
      podNamespace: 'lab',
      pod: 'a',
      fault,
    };
  }

  async function recover(t: NetworkTarget): Promise<void> {
    const entry = ledger.entryForKey(networkTargetKey(t));
    expect(entry).toBeDefined();
    await injector.recover(entry!);
  }

  it('bandwidth: tbf at 1 Mbit/s toward one destination, others untouched, back after recovery', async () => {
    const baseline = await lab.throughput('a', 'b', { port: 6001 });
    const t = target(
      networkFaultSchemaFor({
        type: 'network-bandwidth',
        rateKbit: 1000,
        destinations: { cidrs: [`${lab.pods.b.ip}/32`] },
      }),
    );
    await injector.apply(t);
    expect(lab.exec('a', ['tc', 'qdisc', 'show', 'dev', 'eth0'])).toMatch(
      /tbf .* rate 1Mbit/,
    );
    const limited = await lab.throughput('a', 'b', {
      port: 6002,
      windowMs: 4000,
    });
    const other = await lab.throughput('a', 'c', { port: 6003 });
    await recover(t);
    // On a loaded 2-core machine one veth measurement swings by 2-4x: take the best of up to
    // three. A fault still in place would stay near 1 Mbit/s every time.
    let after = 0;
    for (let i = 0; i < 3 && after < baseline * 0.5; i++) {
      after = Math.max(
        after,
        await lab.throughput('a', 'b', { port: 6004 + i }),
      );
    }
    // eslint-disable-next-line no-console
    console.log(
      `MEASURED bandwidth: baseline ${Math.round(
        baseline,
      )} kbit/s, with tbf 1 Mbit/s ${Math.round(
        limited,
      )} kbit/s, other destination meanwhile ${Math.round(
        other,
      )} kbit/s, after recovery ${Math.round(after)} kbit/s`,
    );
    expect(limited).toBeGreaterThanOrEqual(800);
    expect(limited).toBeLessThanOrEqual(1200);
    expect(other).toBeGreaterThan(20 * 1000);
    expect(after).toBeGreaterThanOrEqual(baseline * 0.5);
    expectClean();
  }, 60_000);

  it('loss: 30% measured over 500 UDP probes, 0% after recovery', async () => {
    const t = target(
      networkFaultSchemaFor({ type: 'network-loss', lossPercent: 30 }),
    );
    const entry = await injector.apply(t);
    expect(entry.notes).toEqual(
      netem.available ? [] : ['netem unavailable: loss via iptables statistic'],
    );
    expect(lab.exec('a', ['iptables-save'])).toMatch(
      netem.available ? /^(?![\s\S]*CHAOS)/ : /--probability 0\.(3|29999)/,
    );
    const lossy = await lab.probe('a', 'b', { port: UDP, count: 500 });
    await recover(t);
    const clean = await lab.probe('a', 'b', { port: UDP, count: 500 });
    // eslint-disable-next-line no-console
    console.log(
      `MEASURED loss (${
        netem.available ? 'netem' : 'iptables statistic'
      }): ${lossy.lossPercent.toFixed(1)}% of ${
        lossy.sent
      } probes with 30% loss; ${clean.lossPercent.toFixed(1)}% after recovery`,
    );
    expect(lossy.lossPercent).toBeGreaterThanOrEqual(20);
    expect(lossy.lossPercent).toBeLessThanOrEqual(40);
    expect(clean.lossPercent).toBe(0);
    expectClean();
  }, 60_000);

  it('partition: connections to the partitioned CIDR fail while other traffic flows; all flows after recovery', async () => {
    expect((await lab.connect('a', 'b', { port: TCP })).ok).toBe(true);
    const t = target(
      networkFaultSchemaFor({
        type: 'network-partition',
        destinations: { cidrs: [`${lab.pods.b.ip}/32`] },
        direction: 'both',
      }),
    );
    await injector.apply(t);
    const toB = await lab.connect('a', 'b', { port: TCP, timeoutMs: 1500 });
    const fromB = await lab.connect('b', 'a', { port: TCP, timeoutMs: 1500 });
    const toC = await lab.connect('a', 'c', { port: TCP });
    const probeC = await lab.probe('a', 'c', { port: UDP, count: 200 });
    await recover(t);
    const toBAfter = await lab.connect('a', 'b', { port: TCP });
    const probeBAfter = await lab.probe('a', 'b', { port: UDP, count: 200 });
    // eslint-disable-next-line no-console
    console.log(
      `MEASURED partition: a->b ${
        toB.ok ? 'connected' : `failed (${toB.error})`
      }, b->a ${fromB.ok ? 'connected' : `failed (${fromB.error})`}, a->c ${
        toC.ok ? 'connected' : 'failed'
      } with ${probeC.lossPercent}% UDP loss; after recovery a->b ${
        toBAfter.ok ? 'connected' : 'failed'
      }, ${probeBAfter.lossPercent}% UDP loss`,
    );
    expect(toB.ok).toBe(false);
    // b->a: b's SYN reaches a's INPUT chain, which drops it (ingress direction).
    expect(fromB.ok).toBe(false);
    expect(toC.ok).toBe(true);
    expect(probeC.lossPercent).toBe(0);
    expect(toBAfter.ok).toBe(true);
    expect(probeBAfter.lossPercent).toBe(0);
    expectClean();
  }, 60_000);

  // A describe per kernel capability: the skipped one says why in its name.
  (netem.available ? describe : describe.skip)(
    `with netem (${netem.why})`,
    () => {
      it(`latency: netem 100 ms adds 90-130 ms of RTT${
        netem.available ? '' : ` (SKIPPED: kernel has no netem: ${netem.why})`
      }`, async () => {
        const before = await lab.probe('a', 'b', {
          port: UDP,
          count: 50,
          intervalMs: 20,
        });
        const t = target(
          networkFaultSchemaFor({ type: 'network-latency', latencyMs: 100 }),
        );
        await injector.apply(t);
        const during = await lab.probe('a', 'b', {
          port: UDP,
          count: 50,
          intervalMs: 20,
        });
        await recover(t);
        const added = during.rttMedianMs! - before.rttMedianMs!;
        // eslint-disable-next-line no-console
        console.log(
          `MEASURED latency: RTT median ${before.rttMedianMs} ms -> ${during.rttMedianMs} ms (+${added} ms)`,
        );
        expect(added).toBeGreaterThanOrEqual(90);
        expect(added).toBeLessThanOrEqual(130);
        expectClean();
      }, 30_000);
    },
  );

  (netem.available ? describe.skip : describe)(
    `without netem (${netem.why})`,
    () => {
      it('without netem: latency, duplicate and corrupt fail with a clear reason and add nothing', async () => {
        // eslint-disable-next-line no-console
        console.warn(
          `SKIPPED latency measurement: this kernel has no netem (${netem.why})`,
        );
        for (const fault of [
          networkFaultSchemaFor({ type: 'network-latency', latencyMs: 100 }),
          networkFaultSchemaFor({
            type: 'network-duplicate',
            duplicatePercent: 5,
          }),
          networkFaultSchemaFor({ type: 'network-corrupt', corruptPercent: 5 }),
        ]) {
          const error = await injector.apply(target(fault)).catch(e => e);
          expect(error).toBeInstanceOf(FaultUnsupportedError);
          expect(error.reason).toBe('NetemUnavailable');
          expect(error.message).toContain(`netem unavailable`);
        }
        expectClean();
      });
    },
  );

  // eslint-disable-next-line jest/expect-expect -- expectClean() holds the assertions
  it('recovery is idempotent: twice, and after the objects were removed by hand', async () => {
    const t = target(
      networkFaultSchemaFor({
        type: 'network-partition',
        destinations: { cidrs: ['10.66.0.2/32'], ports: [TCP] },
      }),
    );
    const entry = await injector.apply(t);
    lab.exec('a', [
      'iptables',
      '-w',
      '5',
      '-D',
      'OUTPUT',
      '-j',
      entry.objects[0].kind === 'iptables' ? entry.objects[0].chain : '',
    ]);
    await injector.recover(entry);
    await injector.recover(entry);
    const b = target(
      networkFaultSchemaFor({ type: 'network-bandwidth', rateKbit: 500 }),
    );
    const bEntry = await injector.apply(b);
    lab.exec('a', ['tc', 'qdisc', 'del', 'dev', 'eth0', 'root']);
    await injector.recover(bEntry);
    expectClean();
  }, 30_000);

  it('iptables recovery is one iptables-restore transaction; step by step when a jump is there twice', async () => {
    const ran: string[][] = [];
    const counting = new NetworkInjector({
      ledger,
      resolver: new StaticNetnsResolver({ 'lab/a': lab.pods.a.path }),
      capabilities: { netem: false, iptables: 'iptables' },
      commandsFor: netnsPath => {
        const inner = new NsenterCommands(netnsPath);
        return {
          netnsPath,
          run: (argv, input) => {
            ran.push([...argv]);
            return inner.run(argv, input);
          },
        };
      },
    });
    const fault = networkFaultSchemaFor({
      type: 'network-partition',
      destinations: { cidrs: ['10.66.0.2/32', '10.66.0.3/32'], ports: [TCP] },
    });
    const entry = await counting.apply(target(fault));
    ran.length = 0;
    await counting.recover(entry);
    // One process per chain (a partition has one each way), nothing else.
    expect(ran.map(argv => argv[0])).toEqual(
      entry.objects.map(() => 'iptables-restore'),
    );
    expectClean();

    // A crash between adding a jump and recording it, then a retry: the jump is in twice.
    const twice = await counting.apply(target(fault));
    const chain =
      twice.objects[0].kind === 'iptables' ? twice.objects[0] : undefined;
    lab.exec('a', [
      'iptables',
      '-w',
      '5',
      '-I',
      chain!.jumps[0].from,
      '1',
      ...chain!.jumps[0].args,
    ]);
    ran.length = 0;
    await counting.recover(twice);
    expect(ran[0][0]).toBe('iptables-restore');
    expect(ran.length).toBeGreaterThan(1);
    expectClean();
  }, 30_000);

  it("a second tc fault on the same device is refused, the first one's qdisc untouched", async () => {
    const first = target(
      networkFaultSchemaFor({ type: 'network-bandwidth', rateKbit: 800 }),
    );
    await injector.apply(first);
    const second = target(
      networkFaultSchemaFor({ type: 'network-bandwidth', rateKbit: 300 }),
    );
    const error = await injector.apply(second).catch(e => e);
    expect(String(error)).toMatch(/NLM_F_REPLACE|Exclusivity|exists/);
    expect(lab.exec('a', ['tc', 'qdisc', 'show', 'dev', 'eth0'])).toMatch(
      /rate 800Kbit/,
    );
    expect(ledger.entryForKey(networkTargetKey(second))).toBeUndefined();
    await recover(first);
    expectClean();
  }, 30_000);
});
