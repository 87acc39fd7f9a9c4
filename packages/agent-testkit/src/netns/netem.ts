import { spawnSync } from 'node:child_process';
import { NETEM_PROBE_ARGV } from '@chaoscraft/agent';

/** The daemon's netem probe, run synchronously: tests decide at collection time whether to skip. */
export function kernelHasNetem(): { available: boolean; why: string } {
  const [command, ...args] = NETEM_PROBE_ARGV;
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return result.status === 0
    ? { available: true, why: 'netem qdisc added in a scratch namespace' }
    : { available: false, why: (result.stderr || String(result.error)).trim() };
}
