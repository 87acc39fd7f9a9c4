// @ts-check

/**
 * `chaos_run_counts`: how many runs each entity has, kept in the transaction that records a run
 * (runs are never deleted). A list's totalCount, and the entities that have runs, are then one
 * index lookup: counting an entity's 58,000 runs took PostgreSQL 11 ms on every page of its
 * history (bench-backend, 1M runs), and `select distinct entity_ref` walked the whole index.
 * Existing runs are counted once here.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('chaos_run_counts', table => {
    table.comment(
      'Runs per entity, for list totals; kept with every run insert',
    );
    table.string('entity_ref', 255).primary();
    table.bigInteger('run_count').notNullable();
  });
  await knex.raw(
    'insert into chaos_run_counts (entity_ref, run_count) ' +
      'select entity_ref, count(*) from chaos_runs group by entity_ref',
  );
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('chaos_run_counts');
};
