// @ts-check

/**
 * Scheduled experiments: `schedule` copies spec.schedule so that the scheduler can find them
 * without reading every spec, and `schedule_checked_at` is how far the scheduler has got:
 * occurrences at or before it are done (run, skipped or missed). An experiment that already had
 * a schedule starts from now, so its past occurrences are not run.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('chaos_experiments', table => {
    table
      .string('schedule', 128)
      .nullable()
      .comment('spec.schedule, for the scheduler to query');
    table
      .timestamp('schedule_checked_at', { useTz: true })
      .nullable()
      .comment('Occurrences up to here are done');
    table.index(['schedule'], 'chaos_experiments_schedule_idx');
  });
  const rows = await knex('chaos_experiments').select('id', 'spec');
  const now = new Date();
  for (const row of rows) {
    const schedule = JSON.parse(row.spec).schedule;
    if (schedule) {
      await knex('chaos_experiments')
        .where({ id: row.id })
        .update({ schedule, schedule_checked_at: now });
    }
  }
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('chaos_experiments', table => {
    table.dropIndex(['schedule'], 'chaos_experiments_schedule_idx');
    table.dropColumn('schedule');
    table.dropColumn('schedule_checked_at');
  });
};
