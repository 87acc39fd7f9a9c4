import { spawn } from 'node:child_process';
import { closeSync, openSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CgroupMembership } from './cgroups';
import { joinCgroups } from './cgroups';

/** The environment variable that marks a stressor's processes with its ledger entry. */
export const STRESS_MARKER_ENV = 'CHAOSCRAFT_STRESS';

/** How long a stressor must be alive after its start to count as started. */
const STARTUP_CHECK_MS = 300;

export interface StressorOptions {
  /** stress-ng and its arguments. */
  argv: string[];
  /** Written into every stressor process's environment: how recovery finds them, even after a restart. */
  marker: string;
  /** The target container's cgroups: the stressor joins them before it starts working. */
  cgroups: readonly CgroupMembership[];
  cgroupRoot: string;
}

/**
 * Starts stress-ng inside a target container's cgroups. A shell waits on its stdin until it has
 * been moved into the cgroups, then execs stress-ng, so every worker stress-ng forks is born
 * there (as Chaos Mesh's StressChaos starts its stressors paused). The process group is its own
 * and detached from the daemon: a daemon restart does not stop it; recovery does, by marker.
 */
export async function startStressor(
  options: StressorOptions,
): Promise<{ pid: number; joined: string[] }> {
  // Its stderr goes to a file: a stressor that dies at once says why there, and a pipe would
  // outlive the daemon badly (SIGPIPE on its next write).
  const errorLog = path.join(
    os.tmpdir(),
    `chaoscraft-stress-${options.marker}.log`,
  );
  const stderr = openSync(errorLog, 'w', 0o600);
  const child = spawn(
    'sh',
    ['-c', 'read -r _ && exec "$@"', 'chaoscraft-stressor', ...options.argv],
    {
      detached: true,
      stdio: ['pipe', 'ignore', stderr],
      // stress-ng writes its scratch files to the working directory: give it one it can write.
      cwd: os.tmpdir(),
      env: {
        PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        [STRESS_MARKER_ENV]: options.marker,
      },
    },
  );
  closeSync(stderr);
  const pid = child.pid;
  if (!pid) {
    await new Promise(resolve => child.once('error', resolve));
    throw new Error(`could not start ${options.argv[0]}`);
  }
  let joined: string[];
  try {
    joined = await joinCgroups(pid, options.cgroups, options.cgroupRoot);
    child.stdin!.end('go\n');
    child.unref();
  } catch (error) {
    process.kill(-pid, 'SIGKILL');
    throw error;
  }
  // A stressor that cannot work (a bad argument, an unwritable temp path) exits at once: that
  // is a failed injection, not an Injected target with nothing behind it.
  await new Promise(resolve => setTimeout(resolve, STARTUP_CHECK_MS));
  if ((await groupMembers(pid)).length === 0) {
    const why = (await fs.readFile(errorLog, 'utf8').catch(() => ''))
      .trim()
      .split('\n')
      .slice(-3)
      .join('; ');
    await fs.rm(errorLog, { force: true });
    throw new Error(
      `${options.argv[0]} exited at once${why ? `: ${why}` : ''}`,
    );
  }
  await fs.rm(errorLog, { force: true });
  return { pid, joined };
}

/**
 * PIDs of live processes whose environment carries the marker: the stressor's leader (stress-ng
 * rewrites its workers' environment for their process titles; they share the leader's group).
 */
export async function findMarked(
  marker: string,
  procRoot = '/proc',
): Promise<number[]> {
  const needle = `${STRESS_MARKER_ENV}=${marker}\0`;
  const pids: number[] = [];
  for (const name of await fs.readdir(procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const environ = await fs.readFile(
        `${procRoot}/${name}/environ`,
        'latin1',
      );
      if (`${environ}\0`.includes(needle)) pids.push(Number(name));
    } catch {
      // Gone meanwhile, or a process we may not read: not ours either way.
    }
  }
  return pids;
}

/** Live (not zombie) processes of a process group. */
export async function groupMembers(
  pgid: number,
  procRoot = '/proc',
): Promise<number[]> {
  const members: number[] = [];
  for (const name of await fs.readdir(procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // /proc/PID/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses.
      const stat = await fs.readFile(`${procRoot}/${name}/stat`, 'latin1');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pgrp) === pgid && state !== 'Z') members.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return members;
}

/**
 * Kills every process of a stressor (SIGKILL to the group of each marked leader) and waits until
 * none is left. Returns how many processes there were.
 */
export async function stopStressor(
  marker: string,
  procRoot = '/proc',
  timeoutMs = 5_000,
): Promise<number> {
  const leaders = await findMarked(marker, procRoot);
  let count = 0;
  for (const pid of leaders) {
    count += (await groupMembers(pid, procRoot)).length || 1;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Not a group leader (any more): kill the process itself.
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = (
      await Promise.all(leaders.map(pid => groupMembers(pid, procRoot)))
    ).flat();
    if (left.length === 0) return count;
    if (Date.now() > deadline)
      throw new Error(
        `stressor ${marker}: ${left.length} process(es) still alive after SIGKILL`,
      );
    await new Promise(resolve => setTimeout(resolve, 50));
  }
}
