import {
  isTerminalPhase,
  type RunTimelineEvent,
} from '@chaoscraft/backstage-plugin-chaos-common';

/** When faults were active, in epoch milliseconds; `end` is missing while they still are. */
export type InjectionWindow = { start: number; end?: number };

/**
 * From the first Injecting (or Running) transition to the first RollingBack or terminal one
 * after it; undefined when the run never injected (refused, dry run, still in preflight).
 */
export function injectionWindow(
  timeline: RunTimelineEvent[],
): InjectionWindow | undefined {
  const events = [...timeline].sort(
    (a, b) => Date.parse(a.time) - Date.parse(b.time),
  );
  const startIndex = events.findIndex(
    e => e.phase === 'Injecting' || e.phase === 'Running',
  );
  if (startIndex < 0) return undefined;
  const end = events
    .slice(startIndex + 1)
    .find(e => e.phase === 'RollingBack' || isTerminalPhase(e.phase));
  return {
    start: Date.parse(events[startIndex].time),
    end: end ? Date.parse(end.time) : undefined,
  };
}
