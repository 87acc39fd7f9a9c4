import { existsSync } from 'node:fs';
import { runCommand } from './exec';

export interface NetemProbe {
  available: boolean;
  /** How it was decided, for the daemon's start-up log. */
  evidence: string;
}

/**
 * Asks the kernel whether it has netem, once per daemon: adds a netem qdisc on the loopback of
 * a throwaway network namespace (`unshare --net`; the namespace dies with the command, so there
 * is nothing to clean up). Loading on demand is covered too: the add autoloads sch_netem where
 * the module exists. /sys/module/sch_netem decides only when the probe itself cannot run.
 */
/** The probe: a netem qdisc on the loopback of a namespace that dies with the command. */
export const NETEM_PROBE_ARGV = [
  'unshare',
  '--net',
  '--',
  'tc',
  'qdisc',
  'add',
  'dev',
  'lo',
  'root',
  'netem',
  'delay',
  '1ms',
] as const;

export async function detectNetem(): Promise<NetemProbe> {
  const [command, ...args] = NETEM_PROBE_ARGV;
  const probe = await runCommand(command, [...args]);
  if (probe.code === 0) {
    return {
      available: true,
      evidence: 'netem qdisc added in a scratch namespace',
    };
  }
  const message = probe.stderr.trim().split('\n')[0] ?? '';
  if (/qdisc kind is unknown/i.test(message)) {
    return { available: false, evidence: `kernel refused netem: ${message}` };
  }
  if (existsSync('/sys/module/sch_netem')) {
    return {
      available: true,
      evidence: `probe failed (${message}); sch_netem is loaded`,
    };
  }
  // Could not ask (e.g. no unshare): try netem, so that a latency fault fails with tc's own
  // words rather than being refused on a guess.
  return {
    available: true,
    evidence: `probe inconclusive, assuming netem: ${message}`,
  };
}
