import type { SchedulerService } from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import { parseDuration } from '@chaoscraft/backstage-plugin-chaos-common';
import {
  CLUSTER_EXPERIMENTS_TASK_ID,
  ClusterExperiments,
} from './ClusterExperiments';
import {
  EXPERIMENT_LOCATIONS_TASK_ID,
  LocationExperiments,
  type LocationExperimentsDeps,
} from './LocationExperiments';

/**
 * How often experiments kept as code are read. The catalog processes each entity every 100 to
 * 150 s by default; reading more often than that means an edit shows within one catalog refresh.
 */
export const DEFAULT_REFRESH_INTERVAL = '30s';

/** `chaos.experimentsAsCode.refreshInterval`, in milliseconds. */
export function readRefreshIntervalMs(config: Config): number {
  const key = 'chaos.experimentsAsCode.refreshInterval';
  const value = config.getOptionalString(key) ?? DEFAULT_REFRESH_INTERVAL;
  try {
    const ms = parseDuration(value);
    if (ms < 1000) throw new Error('is shorter than 1s');
    return ms;
  } catch (error) {
    throw new Error(
      `${key}: '${value}' ${
        (error as Error).message.includes('shorter')
          ? 'is shorter than 1s'
          : 'is not a duration such as 30s or 2m'
      }`,
    );
  }
}

/**
 * Reads experiments kept as code on a schedule, each kind in its own global task (one backend
 * instance at a time): the entities' experiments-locations, and the clusters' ChaosExperiments.
 */
export async function scheduleExperimentsAsCode(
  deps: LocationExperimentsDeps & {
    config: Config;
    scheduler: SchedulerService;
  },
): Promise<{
  locations: LocationExperiments;
  clusterExperiments: ClusterExperiments;
}> {
  const intervalMs = readRefreshIntervalMs(deps.config);
  const locations = new LocationExperiments(deps);
  const clusterExperiments = new ClusterExperiments(deps);
  await deps.scheduler.scheduleTask({
    id: EXPERIMENT_LOCATIONS_TASK_ID,
    scope: 'global',
    frequency: { milliseconds: intervalMs },
    timeout: { minutes: 5 },
    initialDelay: { seconds: 5 },
    fn: async () => {
      await locations.refreshAll();
    },
  });
  await deps.scheduler.scheduleTask({
    id: CLUSTER_EXPERIMENTS_TASK_ID,
    scope: 'global',
    frequency: { milliseconds: intervalMs },
    timeout: { minutes: 2 },
    initialDelay: { seconds: 5 },
    fn: async () => {
      await clusterExperiments.refreshAll();
    },
  });
  return { locations, clusterExperiments };
}
