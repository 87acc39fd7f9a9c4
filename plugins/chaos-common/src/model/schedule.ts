import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';

/**
 * When an experiment runs on its own: a five-field cron expression, as in a Kubernetes CronJob,
 * evaluated in UTC. The expression must also parse with the scheduler's own parser, so that a
 * schedule the API accepts is one the backend can run (`99 * * * *` has five fields but is not).
 */
export const cronScheduleSchema = z
  .string()
  .max(128)
  .regex(
    /^(\S+\s+){4}\S+$/,
    'must be a five-field cron expression such as "0 3 * * 1"',
  )
  .refine(
    schedule => parseSchedule(schedule) !== undefined,
    'is not a valid cron expression (minute hour day-of-month month day-of-week, e.g. "0 3 * * 1")',
  );

function parseSchedule(schedule: string, currentDate?: Date) {
  try {
    return CronExpressionParser.parse(schedule, { currentDate, tz: 'UTC' });
  } catch {
    return undefined;
  }
}

/** The latest time at or before `at` that the schedule names (UTC, whole minutes). */
export function latestOccurrence(schedule: string, at: Date): Date {
  // prev() is strictly before the current date: start from the next whole second.
  const parsed = parseSchedule(
    schedule,
    new Date(Math.floor(at.getTime() / 1000) * 1000 + 1000),
  );
  if (!parsed) throw new Error(`not a valid cron expression: ${schedule}`);
  return parsed.prev().toDate();
}

/** The first time after `at` that the schedule names (UTC). */
export function nextOccurrence(schedule: string, at: Date): Date {
  const parsed = parseSchedule(schedule, at);
  if (!parsed) throw new Error(`not a valid cron expression: ${schedule}`);
  return parsed.next().toDate();
}
