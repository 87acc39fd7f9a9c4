import { spawnSync } from 'node:child_process';

/** Synchronous netem probe for deciding, at test collection time, whether to skip. */
export function kernelHasNetem(): { available: boolean; why: string } {
  const result = spawnSync(
    'unshare',
    [
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
    ],
    { encoding: 'utf8' },
  );
  return result.status === 0
    ? { available: true, why: 'netem qdisc added in a scratch namespace' }
    : { available: false, why: (result.stderr || String(result.error)).trim() };
}
