export { RunHistory, RUN_SEARCH_PARAM } from './RunHistory';
export type { RunHistoryProps } from './RunHistory';
