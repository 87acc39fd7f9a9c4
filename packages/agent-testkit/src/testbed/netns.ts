import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { onExit, run } from './processes';

/** Prefix of every namespace the test bed creates: `cc-probe-<owner pid>-<random>`. */
export const NETNS_PREFIX = 'cc-probe-';

/**
 * A network namespace for the demo service, joined to the root namespace by a veth pair. The
 * pair's two addresses form a private /30 that exists only on that pair; inside, the device
 * is called eth0, as in a pod, so network faults with their default `device` apply to it.
 */
export interface ServiceNamespace {
  readonly name: string;
  /** /var/run/netns/<name>, for nsenter. */
  readonly path: string;
  /** Root-side address (the load generator and Prometheus come from here). */
  readonly hostAddress: string;
  /** The service's address inside the namespace. */
  readonly serviceAddress: string;
  delete(): void;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Deletes test-bed namespaces whose creating process is gone (a run that was killed before its
 * cleanup ran). Only names of this test bed's own pattern are touched.
 */
export function deleteOrphanedNamespaces(): string[] {
  const dir = '/var/run/netns';
  if (!existsSync(dir)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    const match = new RegExp(`^${NETNS_PREFIX}(\\d+)-[0-9a-f]+$`).exec(name);
    if (match && !pidAlive(Number(match[1]))) {
      try {
        run('ip', ['netns', 'del', name]);
        removed.push(name);
      } catch {
        // someone else removed it meanwhile
      }
    }
  }
  return removed;
}

/** A /30 in 10.231.0.0/16 that no interface on this host uses yet. */
function pickSubnet(): { host: string; service: string } {
  const used = run('ip', ['-o', '-4', 'addr', 'show']);
  for (let attempt = 0; attempt < 50; attempt++) {
    const third = 1 + Math.floor(Math.random() * 254);
    const fourth = Math.floor(Math.random() * 64) * 4;
    const prefix = `10.231.${third}.`;
    const host = `${prefix}${fourth + 1}`;
    const service = `${prefix}${fourth + 2}`;
    if (
      !used.includes(` ${host}/`) &&
      !used.includes(` ${service}/`) &&
      !used.includes(` ${prefix}${fourth}/`)
    ) {
      return { host, service };
    }
  }
  throw new Error('no free /30 found in 10.231.0.0/16');
}

export function createServiceNamespace(): ServiceNamespace {
  deleteOrphanedNamespaces();
  const suffix = randomBytes(3).toString('hex');
  const name = `${NETNS_PREFIX}${process.pid}-${suffix}`;
  // Interface names are at most 15 characters.
  const hostIf = `cch${suffix}`;
  const tmpIf = `ccn${suffix}`;
  const { host, service } = pickSubnet();
  run('ip', ['netns', 'add', name]);
  let deleted = false;
  const remove = (): void => {
    if (deleted) return;
    deleted = true;
    // Deleting the namespace destroys its end of the veth pair, which destroys the pair.
    try {
      run('ip', ['netns', 'del', name]);
    } catch {
      // already gone
    }
    try {
      run('ip', ['link', 'del', hostIf]);
    } catch {
      // gone with the namespace, as expected
    }
  };
  const unregister = onExit(remove);
  try {
    run('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', tmpIf]);
    run('ip', ['link', 'set', tmpIf, 'netns', name]);
    run('ip', [
      'netns',
      'exec',
      name,
      'ip',
      'link',
      'set',
      tmpIf,
      'name',
      'eth0',
    ]);
    run('ip', ['addr', 'add', `${host}/30`, 'dev', hostIf]);
    run('ip', ['link', 'set', hostIf, 'up']);
    run('ip', [
      'netns',
      'exec',
      name,
      'ip',
      'addr',
      'add',
      `${service}/30`,
      'dev',
      'eth0',
    ]);
    run('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'eth0', 'up']);
    run('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
  } catch (error) {
    remove();
    unregister();
    throw error;
  }
  return {
    name,
    path: `/var/run/netns/${name}`,
    hostAddress: host,
    serviceAddress: service,
    delete() {
      remove();
      unregister();
    },
  };
}
