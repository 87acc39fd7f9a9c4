export {
  runNodeDaemon,
  parseNodeDaemonArgs,
  NODE_USAGE,
  DEFAULT_LEDGER_PATH,
} from './runNodeDaemon';
export type { NodeDaemonOptions, RunningNodeDaemon } from './runNodeDaemon';
export { NodeDaemon } from './NodeDaemon';
export { Ledger, readLedgerFile } from './Ledger';
export type { LedgerEntry, LedgerLine } from './Ledger';
export * from './netns';
export { CRASH_POINT_ENV } from './crashPoint';
export type { CrashPoint } from './crashPoint';
