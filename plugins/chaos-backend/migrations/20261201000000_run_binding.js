// @ts-check

/**
 * The run mirror trusts only the ChaosRun the backend created: `resource_uid` is that object's
 * metadata.uid (set from the create's answer, or from the first read when the create's outcome
 * was unknown), and `status_version` counts applied status writes, so that a write based on a
 * stale read is refused by a conditional update (on SQLite as on PostgreSQL).
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('chaos_runs', table => {
    table
      .string('resource_uid', 64)
      .nullable()
      .comment('metadata.uid of the ChaosRun the backend created');
    table
      .integer('status_version')
      .notNullable()
      .defaultTo(0)
      .comment('Incremented by every applied status write');
    table.index(['experiment_id', 'phase'], 'chaos_runs_experiment_phase_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('chaos_runs', table => {
    table.dropIndex(
      ['experiment_id', 'phase'],
      'chaos_runs_experiment_phase_idx',
    );
    table.dropColumn('resource_uid');
    table.dropColumn('status_version');
  });
};
