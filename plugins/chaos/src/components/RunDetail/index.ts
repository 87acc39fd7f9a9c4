export { RunDetail } from './RunDetail';
export type { RunDetailProps } from './RunDetail';
export {
  RunPhaseChip,
  VerdictChip,
  formatBlastRadius,
  formatPercent,
  formatTime,
} from './RunStatus';
export { useLiveRun, DEFAULT_POLL_INTERVALS } from './useLiveRun';
export type { PollIntervals, LiveRun } from './useLiveRun';
