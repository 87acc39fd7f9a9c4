import type { LoggerService } from '@backstage/backend-plugin-api';
import {
  latestOccurrence,
  type Run,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { Clock, systemClock } from '../clock';
import type {
  ExperimentStore,
  ScheduledExperiment,
} from '../database/ExperimentStore';
import type { RunStore } from '../database/RunStore';

/** The Backstage scheduler task that starts scheduled runs. */
export const SCHEDULED_RUNS_TASK_ID = 'chaos-scheduled-runs';

/**
 * An occurrence first seen later than this (the backend was down when it fell due) is recorded
 * as missed rather than run late, as a CronJob's startingDeadlineSeconds does.
 */
export const DEFAULT_STARTING_DEADLINE_MS = 5 * 60_000;

/** What one tick did with one experiment's due occurrence. */
export type ScheduleOutcome = {
  experimentId: string;
  occurrence: string;
  outcome: 'started' | 'skipped' | 'missed' | 'failed';
  runId?: string;
  reason?: string;
};

/** Who started a scheduled run, as the run history shows it. */
export function scheduledBy(schedule: string): string {
  return `schedule (${schedule})`;
}

/**
 * Starts the runs that experiments' schedules (cron, UTC) call for. Called by a global scheduler
 * task every 30 s, so one backend instance ticks at a time; each occurrence is also claimed in
 * the database before anything starts, so even two ticks at once start it once. At most the
 * latest occurrence since the last tick is acted on: a backend that was down does not catch up
 * on a backlog. An occurrence is skipped while an earlier run of the experiment is still live
 * (runs never overlap), and missed when it is older than the starting deadline.
 */
export class ScheduledRuns {
  private readonly startingDeadlineMs: number;
  private readonly clock: Clock;

  constructor(
    private readonly deps: {
      experiments: ExperimentStore;
      runs: RunStore;
      /** Starts one run; throws when it could not (the run record says why when there is one). */
      launch(
        experiment: ScheduledExperiment['experiment'],
        createdBy: string,
      ): Promise<Run>;
      logger: LoggerService;
      startingDeadlineMs?: number;
      clock?: Clock;
    },
  ) {
    this.startingDeadlineMs =
      deps.startingDeadlineMs ?? DEFAULT_STARTING_DEADLINE_MS;
    this.clock = deps.clock ?? systemClock;
  }

  async tick(): Promise<ScheduleOutcome[]> {
    const now = this.clock.now();
    const outcomes: ScheduleOutcome[] = [];
    // Which experiments have a live run: read once per tick, and only when something fell due.
    let live: Promise<Set<string>> | undefined;
    for (const {
      experiment,
      checkedAt,
    } of await this.deps.experiments.listScheduled()) {
      const occurrence = latestOccurrence(experiment.schedule, now);
      if (occurrence <= checkedAt) continue;
      if (
        !(await this.deps.experiments.claimOccurrence(
          experiment.id,
          checkedAt,
          occurrence,
        ))
      )
        continue;
      live ??= this.deps.runs
        .listLive()
        .then(runs => new Set(runs.map(run => run.experimentId)));
      const outcome = await this.act(experiment, occurrence, now, await live);
      const log = this.deps.logger.child({
        experimentId: experiment.id,
        entityRef: experiment.entityRef,
        occurrence: outcome.occurrence,
      });
      if (outcome.outcome === 'started')
        log.info(
          `Started scheduled run ${outcome.runId} of ${experiment.name}`,
        );
      else if (outcome.outcome === 'failed')
        log.error(
          `Scheduled run of ${experiment.name} failed to start: ${outcome.reason}`,
        );
      else
        log.warn(
          `Scheduled run of ${experiment.name} ${outcome.outcome}: ${outcome.reason}`,
        );
      outcomes.push(outcome);
    }
    return outcomes;
  }

  private async act(
    experiment: ScheduledExperiment['experiment'],
    occurrence: Date,
    now: Date,
    live: Set<string>,
  ): Promise<ScheduleOutcome> {
    const base = {
      experimentId: experiment.id,
      occurrence: occurrence.toISOString(),
    };
    const lateMs = now.getTime() - occurrence.getTime();
    if (lateMs > this.startingDeadlineMs) {
      return {
        ...base,
        outcome: 'missed',
        reason: `first seen ${Math.round(
          lateMs / 1000,
        )} s after it fell due (deadline ${this.startingDeadlineMs / 1000} s)`,
      };
    }
    if (live.has(experiment.id)) {
      return {
        ...base,
        outcome: 'skipped',
        reason: 'an earlier run of this experiment is still live',
      };
    }
    try {
      const run = await this.deps.launch(
        experiment,
        scheduledBy(experiment.schedule),
      );
      live.add(experiment.id);
      return { ...base, outcome: 'started', runId: run.id };
    } catch (error) {
      return {
        ...base,
        outcome: 'failed',
        reason: error instanceof Error ? error.message : String(error),
      };
    }
  }
}
