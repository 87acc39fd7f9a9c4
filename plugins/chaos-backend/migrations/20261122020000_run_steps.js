// @ts-check

/**
 * Runs keep what a progressive run reached (status.steps, as JSON) and how long the rollback took
 * after the first failing probe sample (status.abortLatencyMs), so the run page can show both
 * after the ChaosRun is gone.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('chaos_runs', table => {
    table
      .text('steps')
      .nullable()
      .comment('JSON: status.steps of a progressive run');
    table
      .integer('abort_latency_ms')
      .nullable()
      .comment('status.abortLatencyMs');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('chaos_runs', table => {
    table.dropColumn('steps');
    table.dropColumn('abort_latency_ms');
  });
};
