import type { IptablesChain } from './objects';
import type { Destinations } from './tc';

export type Direction = 'egress' | 'ingress';

/** multiport takes at most 15 ports per rule. */
const MULTIPORT_MAX = 15;

/**
 * The match arguments selecting traffic to (egress) or from (ingress) the destinations through
 * the fault's device: one argument list per rule. Ports are the remote side's, for TCP and UDP,
 * since the model does not name a protocol. Without destinations all traffic through the device
 * matches (never loopback: a pod keeps talking to itself).
 */
export function destinationMatches(
  direction: Direction,
  device: string,
  destinations?: Destinations,
): string[][] {
  const onDevice = [direction === 'egress' ? '-o' : '-i', device];
  if (!destinations) {
    return [onDevice];
  }
  const address = direction === 'egress' ? '-d' : '-s';
  const portFlag = direction === 'egress' ? '--dports' : '--sports';
  const matches: string[][] = [];
  for (const cidr of destinations.cidrs) {
    const ports = destinations.ports ?? [];
    if (ports.length === 0) {
      matches.push([...onDevice, address, cidr]);
      continue;
    }
    for (const protocol of ['tcp', 'udp']) {
      for (let i = 0; i < ports.length; i += MULTIPORT_MAX) {
        const chunk = ports.slice(i, i + MULTIPORT_MAX).join(',');
        matches.push([
          ...onDevice,
          address,
          cidr,
          '-p',
          protocol,
          '-m',
          'multiport',
          portFlag,
          chunk,
        ]);
      }
    }
  }
  return matches;
}

/**
 * One chain of our own for one direction, entered from OUTPUT (egress) or INPUT (ingress).
 * Each direction gets its own chain because an egress `-d CIDR` rule reached from INPUT would
 * match inbound packets whenever the pod's own address lies inside CIDR.
 */
export function buildDropChain(options: {
  binary: string;
  chainPrefix: string;
  direction: Direction;
  device: string;
  destinations?: Destinations;
  /** Extra match in front of every rule, e.g. `-m statistic ...`. */
  extraMatch?: string[];
}): IptablesChain {
  const {
    binary,
    chainPrefix,
    direction,
    device,
    destinations,
    extraMatch = [],
  } = options;
  const chain = `${chainPrefix}-${direction === 'egress' ? 'E' : 'I'}`;
  return {
    kind: 'iptables',
    binary,
    table: 'filter',
    chain,
    rules: destinationMatches(direction, device, destinations).map(match => [
      ...match,
      ...extraMatch,
      '-j',
      'DROP',
    ]),
    jumps: [
      {
        from: direction === 'egress' ? 'OUTPUT' : 'INPUT',
        args: ['-j', chain],
      },
    ],
  };
}
