import type { Run, RunList } from '@chaoscraft/backstage-plugin-chaos-common';

export const SUMMARY_WINDOW_DAYS = 30;

export type ResilienceSummary = {
  lastRun?: Run;
  /** Runs started in the window, dry runs excluded: they test nothing. */
  runs: number;
  /** True when the page ended inside the window, so older runs in it were not counted. */
  atLeast: boolean;
  passed: number;
  failed: number;
  refused: number;
  aborted: number;
};

/** Counts over the newest page of runs; good enough for a card, and one request. */
export function resilienceSummary(page: RunList, now: number = Date.now()): ResilienceSummary {
  const since = now - SUMMARY_WINDOW_DAYS * 24 * 60 * 60 * 1000;
  const inWindow = page.items.filter(r => Date.parse(r.startedAt ?? r.createdAt) >= since);
  const real = inWindow.filter(r => !r.dryRun);
  return {
    lastRun: page.items[0],
    runs: real.length,
    atLeast: inWindow.length === page.items.length && page.totalCount > page.items.length,
    passed: real.filter(r => r.verdict === 'Passed').length,
    failed: real.filter(r => r.verdict === 'Failed').length,
    refused: real.filter(r => r.verdict === 'Refused').length,
    aborted: real.filter(r => r.phase === 'Aborted').length,
  };
}
