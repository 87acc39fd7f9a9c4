import type { TcTree } from './objects';
import { tcHandle } from './names';

/** Traffic a fault is limited to; absent means every packet leaving through the device. */
export interface Destinations {
  cidrs: string[];
  ports?: number[];
}

/** The qdisc that does the damage, placed below the chaos class: netem or tbf arguments. */
export type TcLeaf = string[];

// htb classes are only a sorting device here: rates far above any pod's link so that neither
// class shapes anything; the netem/tbf leaf alone does the damage.
const PASS_THROUGH_CLASS = ['htb', 'rate', '100gbit', 'quantum', '60000'];

/**
 * Builds the htb tree that confines a netem/tbf leaf to the chosen traffic:
 *
 *   root htb H: (default: H:2, or H:1 without destinations)
 *     class H:1  chaos traffic  -> leaf qdisc L: (netem / tbf)
 *     class H:2  everything else, untouched
 *     u32 filters: ip dst CIDR [and dport P] -> H:1
 *
 * htb rather than prio: prio (and sfq) are missing on some kernels, htb is not. u32's dport
 * match reads the 16 bits at offset 20 of the IP header, i.e. TCP and UDP destination ports of
 * packets without IP options, as tc users have done for decades.
 */
export function buildTcTree(
  device: string,
  handles: { root: number; leaf: number },
  leaf: TcLeaf,
  destinations?: Destinations,
): TcTree {
  const root = tcHandle(handles.root);
  const chaosClass = `${root}1`;
  const otherClass = `${root}2`;
  const dev = ['dev', device];
  const commands: string[][] = [
    [
      'tc',
      'qdisc',
      'add',
      ...dev,
      'root',
      'handle',
      root,
      'htb',
      'default',
      destinations ? '2' : '1',
    ],
    [
      'tc',
      'class',
      'add',
      ...dev,
      'parent',
      root,
      'classid',
      chaosClass,
      ...PASS_THROUGH_CLASS,
    ],
    [
      'tc',
      'class',
      'add',
      ...dev,
      'parent',
      root,
      'classid',
      otherClass,
      ...PASS_THROUGH_CLASS,
    ],
    [
      'tc',
      'qdisc',
      'add',
      ...dev,
      'parent',
      chaosClass,
      'handle',
      tcHandle(handles.leaf),
      ...leaf,
    ],
  ];
  for (const cidr of destinations?.cidrs ?? []) {
    const ports = destinations?.ports?.length
      ? destinations.ports
      : [undefined];
    for (const port of ports) {
      commands.push([
        'tc',
        'filter',
        'add',
        ...dev,
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
        cidr,
        ...(port === undefined
          ? []
          : ['match', 'ip', 'dport', String(port), '0xffff']),
        'flowid',
        chaosClass,
      ]);
    }
  }
  return { kind: 'tc', device, rootHandle: root, commands };
}
