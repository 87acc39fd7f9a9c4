import type { Experiment } from './model/experiment';
import type {
  BlastRadius,
  ProbeResult,
  RunPhase,
  TargetRecord,
  Verdict,
} from './model/run';

/** One page of a list; `offset` and `limit` echo the request. */
export type Page<T> = {
  items: T[];
  totalCount: number;
  offset: number;
  limit: number;
};

export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 100;

export type ExperimentList = Page<Experiment>;

/** A run as the backend records it: the durable history of one ChaosRun. */
export type Run = {
  id: string;
  experimentId: string;
  entityRef: string;
  cluster: string;
  namespace: string;
  /** metadata.name of the ChaosRun in the cluster. */
  resourceName: string;
  dryRun: boolean;
  phase: RunPhase;
  verdict?: Verdict;
  reason?: string;
  message?: string;
  blastRadius?: BlastRadius;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  finishedAt?: string;
};

/** A phase transition or notable moment of a run, in order. */
export type RunTimelineEvent = {
  time: string;
  phase: RunPhase;
  reason?: string;
  message?: string;
};

export type RunDetail = Run & {
  targets: TargetRecord[];
  probes: ProbeResult[];
  timeline: RunTimelineEvent[];
};

export type RunList = Page<Run>;
