import { networkFaultSchemaFor } from '@chaoscraft/agent-testkit';
import { planNetworkFault } from './index';
import { objectNames } from './names';
import { iptablesAddCommands, iptablesRemovalScript } from './objects';
import { tbfSizes } from './bandwidth';

const names = objectNames('run-uid/ns/pod/network-x');
const withNetem = {
  names,
  capabilities: { netem: true, iptables: 'iptables' },
};
const withoutNetem = {
  names,
  capabilities: { netem: false, iptables: 'iptables' },
};
const root = `${names.tcRoot.toString(16)}:`;
const leaf = `${names.tcLeaf.toString(16)}:`;

describe('network fault plans', () => {
  it('names are stable per target and fit iptables and tc limits', () => {
    expect(objectNames('a')).toEqual(objectNames('a'));
    expect(objectNames('a').chain).not.toEqual(objectNames('b').chain);
    expect(`${names.chain}-E`.length).toBeLessThanOrEqual(28);
    expect(names.tcRoot).toBeGreaterThanOrEqual(0x1000);
    expect(names.tcRoot).toBeLessThan(0xffff);
  });

  it('latency: netem delay with jitter and correlation below an htb tree scoped by u32', () => {
    const fault = networkFaultSchemaFor({
      type: 'network-latency',
      latencyMs: 100,
      jitterMs: 10,
      correlationPercent: 25,
      destinations: { cidrs: ['10.0.0.0/8'], ports: [443] },
    });
    const [tree] = planNetworkFault(fault, withNetem).objects;
    expect(tree).toEqual({
      kind: 'tc',
      device: 'eth0',
      rootHandle: root,
      commands: [
        [
          'tc',
          'qdisc',
          'add',
          'dev',
          'eth0',
          'root',
          'handle',
          root,
          'htb',
          'default',
          '2',
        ],
        [
          'tc',
          'class',
          'add',
          'dev',
          'eth0',
          'parent',
          root,
          'classid',
          `${root}1`,
          'htb',
          'rate',
          '100gbit',
          'quantum',
          '60000',
        ],
        [
          'tc',
          'class',
          'add',
          'dev',
          'eth0',
          'parent',
          root,
          'classid',
          `${root}2`,
          'htb',
          'rate',
          '100gbit',
          'quantum',
          '60000',
        ],
        [
          'tc',
          'qdisc',
          'add',
          'dev',
          'eth0',
          'parent',
          `${root}1`,
          'handle',
          leaf,
          'netem',
          'delay',
          '100ms',
          '10ms',
          '25%',
        ],
        [
          'tc',
          'filter',
          'add',
          'dev',
          'eth0',
          'parent',
          root,
          'protocol',
          'ip',
          'prio',
          '1',
          'u32',
          'match',
          'ip',
          'dst',
          '10.0.0.0/8',
          'match',
          'ip',
          'dport',
          '443',
          '0xffff',
          'flowid',
          `${root}1`,
        ],
      ],
    });
  });

  it('without destinations all traffic of the device goes to the chaos class', () => {
    const fault = networkFaultSchemaFor({
      type: 'network-bandwidth',
      rateKbit: 1000,
      device: 'net1',
    });
    const [tree] = planNetworkFault(fault, withoutNetem).objects;
    expect(tree.kind === 'tc' && tree.commands[0]).toEqual([
      'tc',
      'qdisc',
      'add',
      'dev',
      'net1',
      'root',
      'handle',
      root,
      'htb',
      'default',
      '1',
    ]);
    expect(tree.kind === 'tc' && tree.commands[3]).toEqual([
      'tc',
      'qdisc',
      'add',
      'dev',
      'net1',
      'parent',
      `${root}1`,
      'handle',
      leaf,
      'tbf',
      'rate',
      '1000kbit',
      'burst',
      '3028',
      'limit',
      '28028',
    ]);
    expect(
      tree.kind === 'tc' && tree.commands.filter(c => c[1] === 'filter'),
    ).toEqual([]);
  });

  it('tbf sizes: a few frames and one timer tick at least, 200 ms of queue', () => {
    expect(tbfSizes(1000)).toEqual({ burst: 3028, limit: 28028 });
    expect(tbfSizes(1_000_000)).toEqual({
      burst: 1_250_000,
      limit: 26_250_000,
    });
    expect(tbfSizes(1000, 5000, 9000)).toEqual({ burst: 5000, limit: 9000 });
  });

  it('loss uses netem where the kernel has it', () => {
    const fault = networkFaultSchemaFor({
      type: 'network-loss',
      lossPercent: 30,
      correlationPercent: 10,
    });
    const plan = planNetworkFault(fault, withNetem);
    expect(plan.notes).toEqual([]);
    expect(
      plan.objects[0].kind === 'tc' && plan.objects[0].commands[3].slice(-4),
    ).toEqual(['netem', 'loss', '30%', '10%']);
  });

  it('loss falls back to iptables statistic without netem, and says so', () => {
    const fault = networkFaultSchemaFor({
      type: 'network-loss',
      lossPercent: 30,
      correlationPercent: 10,
      destinations: { cidrs: ['10.1.0.0/16'] },
    });
    const plan = planNetworkFault(fault, withoutNetem);
    expect(plan.notes).toEqual([
      'netem unavailable: loss via iptables statistic',
      'correlation is ignored by the iptables fallback',
    ]);
    const [chain] = plan.objects;
    expect(chain.kind === 'iptables' && iptablesAddCommands(chain)).toEqual([
      ['iptables', '-w', '5', '-t', 'filter', '-N', `${names.chain}-E`],
      [
        'iptables',
        '-w',
        '5',
        '-t',
        'filter',
        '-A',
        `${names.chain}-E`,
        '-o',
        'eth0',
        '-d',
        '10.1.0.0/16',
        '-m',
        'statistic',
        '--mode',
        'random',
        '--probability',
        '0.3',
        '-j',
        'DROP',
      ],
      [
        'iptables',
        '-w',
        '5',
        '-t',
        'filter',
        '-I',
        'OUTPUT',
        '1',
        '-j',
        `${names.chain}-E`,
      ],
    ]);
  });

  it('latency, duplicate and corrupt refuse without netem', () => {
    for (const input of [
      { type: 'network-latency', latencyMs: 10 },
      { type: 'network-duplicate', duplicatePercent: 1 },
      { type: 'network-corrupt', corruptPercent: 1 },
    ]) {
      expect(() =>
        planNetworkFault(networkFaultSchemaFor(input), withoutNetem),
      ).toThrow(/netem unavailable/);
    }
  });

  it('partition: one chain per direction, ports for TCP and UDP on the remote side', () => {
    const fault = networkFaultSchemaFor({
      type: 'network-partition',
      destinations: { cidrs: ['10.2.0.0/16'], ports: [80, 443] },
    });
    const [egress, ingress] = planNetworkFault(fault, withNetem).objects;
    expect(egress).toMatchObject({
      chain: `${names.chain}-E`,
      jumps: [{ from: 'OUTPUT', args: ['-j', `${names.chain}-E`] }],
      rules: [
        [
          '-o',
          'eth0',
          '-d',
          '10.2.0.0/16',
          '-p',
          'tcp',
          '-m',
          'multiport',
          '--dports',
          '80,443',
          '-j',
          'DROP',
        ],
        [
          '-o',
          'eth0',
          '-d',
          '10.2.0.0/16',
          '-p',
          'udp',
          '-m',
          'multiport',
          '--dports',
          '80,443',
          '-j',
          'DROP',
        ],
      ],
    });
    expect(ingress).toMatchObject({
      chain: `${names.chain}-I`,
      jumps: [{ from: 'INPUT', args: ['-j', `${names.chain}-I`] }],
      rules: [
        [
          '-i',
          'eth0',
          '-s',
          '10.2.0.0/16',
          '-p',
          'tcp',
          '-m',
          'multiport',
          '--sports',
          '80,443',
          '-j',
          'DROP',
        ],
        [
          '-i',
          'eth0',
          '-s',
          '10.2.0.0/16',
          '-p',
          'udp',
          '-m',
          'multiport',
          '--sports',
          '80,443',
          '-j',
          'DROP',
        ],
      ],
    });
  });

  it('iptables removal: one restore script, jumps first, none when an argument would need quoting', () => {
    const chain = {
      kind: 'iptables' as const,
      binary: 'iptables',
      table: 'filter' as const,
      chain: 'CHAOS-abc',
      rules: [['-j', 'DROP']],
      jumps: [
        { from: 'OUTPUT' as const, args: ['-o', 'eth0', '-j', 'CHAOS-abc'] },
      ],
    };
    expect(iptablesRemovalScript(chain)).toBe(
      '*filter\n-D OUTPUT -o eth0 -j CHAOS-abc\n-F CHAOS-abc\n-X CHAOS-abc\nCOMMIT\n',
    );
    expect(
      iptablesRemovalScript({
        ...chain,
        jumps: [
          { from: 'OUTPUT', args: ['-m', 'comment', '--comment', 'a b'] },
        ],
      }),
    ).toBeUndefined();
  });
});
