// @ts-check

/**
 * Runs carry the name of the experiment they ran, as it was then: the history stays readable
 * after the experiment is renamed or deleted.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('chaos_runs', table => {
    table
      .string('experiment_name', 63)
      .notNullable()
      .defaultTo('')
      .comment('Name of the experiment when the run started');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('chaos_runs', table => {
    table.dropColumn('experiment_name');
  });
};
