import type { RunStatus } from './records';

/**
 * The most a ChaosRun status may take, serialized. etcd refuses a request over 1.5 MiB, and the
 * object also carries its spec and metadata: 1 MiB of status leaves room for both.
 */
export const DEFAULT_STATUS_BUDGET_BYTES = 1024 * 1024;

const bytes = (status: RunStatus): number =>
  Buffer.byteLength(JSON.stringify(status), 'utf8');

/** Keeps each record's newest `keep` events; returns how many it dropped. */
function trimEvents(status: RunStatus, keep: number): number {
  let dropped = 0;
  for (const record of status.targets) {
    const events = record.events ?? [];
    if (events.length > keep) {
      dropped += events.length - keep;
      record.events = events.slice(events.length - keep);
    }
  }
  return dropped;
}

/** Keeps each probe's newest `keep` samples; returns how many it dropped. */
function trimSamples(status: RunStatus, keep: number): number {
  let dropped = 0;
  for (const probe of status.probes) {
    if (probe.samples.length > keep) {
      dropped += probe.samples.length - keep;
      probe.samples = probe.samples.slice(probe.samples.length - keep);
    }
  }
  return dropped;
}

/**
 * Fits a status within `budgetBytes` in place, dropping the oldest target events and probe
 * samples first (records, phases, verdicts and conditions are never dropped), alternating so
 * neither history disappears while the other is still long, and counts what it dropped in
 * `status.dropped`. Returns false when even the pared-down status is over the budget.
 */
export function fitStatusBudget(
  status: RunStatus,
  budgetBytes = DEFAULT_STATUS_BUDGET_BYTES,
): boolean {
  if (bytes(status) <= budgetBytes) return true;
  const dropped = {
    targetEvents: status.dropped?.targetEvents ?? 0,
    probeSamples: status.dropped?.probeSamples ?? 0,
  };
  const stages: Array<['events' | 'samples', number]> = [
    ['events', 5],
    ['samples', 60],
    ['events', 2],
    ['samples', 20],
    ['events', 1],
    ['samples', 5],
    ['events', 0],
    ['samples', 1],
  ];
  let fits = false;
  for (const [what, keep] of stages) {
    if (what === 'events') dropped.targetEvents += trimEvents(status, keep);
    else dropped.probeSamples += trimSamples(status, keep);
    status.dropped = dropped;
    if (bytes(status) <= budgetBytes) {
      fits = true;
      break;
    }
  }
  return fits;
}
