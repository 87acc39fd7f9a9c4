import {
  cronScheduleSchema,
  latestOccurrence,
  nextOccurrence,
} from './schedule';

describe('experiment schedules', () => {
  it('accepts five-field cron expressions the scheduler can run', () => {
    for (const schedule of [
      '0 3 * * 1',
      '*/15 * * * *',
      '30 2 1 * *',
      '0 9-17 * * 1-5',
    ]) {
      expect(cronScheduleSchema.safeParse(schedule).success).toBe(true);
    }
  });

  it('refuses what the scheduler could not run, saying why', () => {
    expect(
      cronScheduleSchema.safeParse('0 3 * *').error?.issues[0].message,
    ).toContain('five-field');
    expect(
      cronScheduleSchema.safeParse('99 * * * *').error?.issues[0].message,
    ).toContain('not a valid cron expression');
    expect(cronScheduleSchema.safeParse('0 0 0 * * *').success).toBe(false);
    // The backend stores it in a column of 128 characters.
    expect(
      cronScheduleSchema.safeParse(
        `${Array.from({ length: 60 }, (_, i) => i).join(',')} * * * *`,
      ).success,
    ).toBe(false);
  });

  it('finds the latest occurrence at or before a time, and the next one after it, in UTC', () => {
    const at = new Date('2026-11-23T03:00:00.000Z'); // a Monday
    expect(latestOccurrence('0 3 * * 1', at).toISOString()).toBe(
      '2026-11-23T03:00:00.000Z',
    );
    expect(
      latestOccurrence(
        '0 3 * * 1',
        new Date('2026-11-23T02:59:59.999Z'),
      ).toISOString(),
    ).toBe('2026-11-16T03:00:00.000Z');
    expect(
      latestOccurrence(
        '*/15 * * * *',
        new Date('2026-11-22T11:44:10.500Z'),
      ).toISOString(),
    ).toBe('2026-11-22T11:30:00.000Z');
    expect(
      nextOccurrence(
        '*/15 * * * *',
        new Date('2026-11-22T11:44:10.500Z'),
      ).toISOString(),
    ).toBe('2026-11-22T11:45:00.000Z');
    expect(nextOccurrence('0 3 * * 1', at).toISOString()).toBe(
      '2026-11-30T03:00:00.000Z',
    );
  });
});
