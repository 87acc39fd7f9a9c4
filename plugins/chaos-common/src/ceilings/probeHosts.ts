import ipaddr from 'ipaddr.js';

/**
 * Which hosts a steady-state HTTP probe may reach. A probe runs inside the cluster with the
 * agent's network position, so an owner who may point it anywhere could read the cloud metadata
 * service (169.254.169.254), the agent's own loopback services, or the API server. Patterns are
 * an exact host name, `*.suffix` (any subdomain), or an IPv4/IPv6 CIDR (or single address).
 */
export type ProbeHostRules = {
  /** When not empty, only these hosts; otherwise any host that is not denied. */
  allow: string[];
  /** Added to DEFAULT_DENIED_PROBE_HOSTS; deny wins over allow. */
  deny: string[];
};

/**
 * Always denied unless an operator allows them explicitly (an explicit allow entry overrides a
 * default denial, never an operator's own deny): loopback, link-local (cloud metadata), "this
 * host", and the names the API server answers to inside a cluster.
 */
export const DEFAULT_DENIED_PROBE_HOSTS: readonly string[] = [
  '127.0.0.0/8',
  '::1/128',
  '0.0.0.0/8',
  '::/128',
  '169.254.0.0/16',
  'fe80::/10',
  'localhost',
  '*.localhost',
  'kubernetes',
  'kubernetes.default',
  'kubernetes.default.svc',
  '*.kubernetes.default.svc',
  'kubernetes.default.svc.cluster.local',
];

/** The host of a URL as the WHATWG parser normalises it (`0x7f.1` → `127.0.0.1`), brackets off. */
export function urlHost(url: string): string | undefined {
  try {
    const host = new URL(url).hostname.toLowerCase();
    return host.startsWith('[') && host.endsWith(']')
      ? host.slice(1, -1)
      : host.replace(/\.$/, '');
  } catch {
    return undefined;
  }
}

function parseAddress(host: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (!ipaddr.isValid(host)) return undefined;
  // ::ffff:127.0.0.1 is 127.0.0.1: judge IPv4-mapped addresses as the IPv4 they are.
  return ipaddr.process(host);
}

/** Does a host (name or address) match one pattern? */
export function hostMatches(host: string, pattern: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  const p = pattern.trim().toLowerCase();
  const address = parseAddress(h);
  if (p.includes('/') || ipaddr.isValid(p)) {
    if (!address) return false;
    try {
      const [range, bits] = p.includes('/')
        ? ipaddr.parseCIDR(p)
        : [ipaddr.parse(p), p.includes(':') ? 128 : 32];
      const normalRange =
        range.kind() === 'ipv6' && (range as ipaddr.IPv6).isIPv4MappedAddress()
          ? ([
              (range as ipaddr.IPv6).toIPv4Address(),
              Math.max(0, bits - 96),
            ] as const)
          : ([range, bits] as const);
      return (
        address.kind() === normalRange[0].kind() &&
        address.match(normalRange[0] as never, normalRange[1])
      );
    } catch {
      return false;
    }
  }
  if (p.startsWith('*.'))
    return h.endsWith(p.slice(1)) && h.length > p.length - 1;
  return h === p;
}

/** Is a pattern well formed? (Config and flags are checked with it.) */
export function isValidHostPattern(pattern: string): boolean {
  const p = pattern.trim();
  if (p.includes('/')) {
    try {
      ipaddr.parseCIDR(p);
      return true;
    } catch {
      return false;
    }
  }
  return (
    ipaddr.isValid(p) ||
    /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i.test(
      p,
    )
  );
}

/**
 * Why a probe may not reach this host, or undefined when it may. `extraDenied` are hosts only
 * the caller knows (the cluster's API server address).
 */
export function probeHostRefusal(
  host: string,
  rules: ProbeHostRules,
  extraDenied: readonly string[] = [],
): string | undefined {
  const operatorDenied = [...rules.deny, ...extraDenied].find(p =>
    hostMatches(host, p),
  );
  if (operatorDenied) return `host ${host} is denied (${operatorDenied})`;
  const explicitlyAllowed = rules.allow.find(p => hostMatches(host, p));
  const defaultDenied = DEFAULT_DENIED_PROBE_HOSTS.find(p =>
    hostMatches(host, p),
  );
  if (defaultDenied && !explicitlyAllowed) {
    return `host ${host} is denied by default (${defaultDenied}: loopback, link-local and the API server are never probed unless an operator allows them)`;
  }
  if (rules.allow.length > 0 && !explicitlyAllowed) {
    return `host ${host} is not on the probe host allow-list (${rules.allow.join(
      ', ',
    )})`;
  }
  return undefined;
}
