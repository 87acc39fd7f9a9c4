import { promises as fs } from 'node:fs';
import path from 'node:path';

/** One line of /proc/PID/cgroup: a hierarchy and the process's path in it. */
export interface CgroupMembership {
  /** `cpu,cpuacct`, `memory`, `name=systemd`; empty for the cgroup v2 (unified) hierarchy. */
  controllers: string;
  path: string;
}

/** Parses /proc/PID/cgroup (`id:controllers:path` lines; v2 is `0::path`). */
export function parseProcCgroup(text: string): CgroupMembership[] {
  return text
    .split('\n')
    .filter(line => line.trim())
    .map(line => {
      const [, controllers = '', ...rest] = line.split(':');
      return { controllers, path: rest.join(':') || '/' };
    });
}

/** The cgroups of a process, as the node sees them. */
export async function cgroupsOf(
  pid: number,
  procRoot = '/proc',
): Promise<CgroupMembership[]> {
  return parseProcCgroup(
    await fs.readFile(`${procRoot}/${pid}/cgroup`, 'utf8'),
  );
}

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await fs.stat(dir)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The directory of a membership under the cgroup filesystem root: v1 hierarchies are mounted at
 * `<root>/<controllers>` (`name=systemd` at `<root>/systemd`); the v2 hierarchy is the root itself
 * on a pure v2 node, `<root>/unified` on a hybrid one. Undefined when it is not there (e.g. a
 * hierarchy this node does not mount).
 */
export async function cgroupDirectory(
  membership: CgroupMembership,
  cgroupRoot: string,
): Promise<string | undefined> {
  const { controllers } = membership;
  let mounts: string[];
  if (controllers) {
    mounts = [controllers.replace(/^name=/, ''), ...controllers.split(',')];
  } else {
    const pureV2 = await fs
      .access(path.join(cgroupRoot, 'cgroup.controllers'))
      .then(
        () => true,
        () => false,
      );
    mounts = pureV2 ? [''] : ['unified'];
  }
  for (const mount of mounts) {
    const dir = path.join(cgroupRoot, mount, membership.path);
    if (await isDirectory(dir)) return dir;
  }
  return undefined;
}

/**
 * Moves a process into every cgroup of another one (the target container's), hierarchy by
 * hierarchy, so whatever it does is counted and limited as the container's own use. Returns the
 * directories it joined.
 */
export async function joinCgroups(
  pid: number,
  memberships: readonly CgroupMembership[],
  cgroupRoot: string,
): Promise<string[]> {
  const joined: string[] = [];
  for (const membership of memberships) {
    const dir = await cgroupDirectory(membership, cgroupRoot);
    if (!dir || joined.includes(dir)) continue;
    await fs.writeFile(path.join(dir, 'cgroup.procs'), `${pid}\n`);
    joined.push(dir);
  }
  return joined;
}
