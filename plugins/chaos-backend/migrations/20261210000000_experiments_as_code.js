// @ts-check

/**
 * Experiments kept as code. They live in chaos_experiments beside the ones made through the API,
 * so that listing, running and scheduling (its claim per occurrence) are one path, and so that
 * the unique (entity_ref, name) makes a name clash between the two a visible conflict rather
 * than two experiments. `managed_by` says which source owns a row (null: the API); such rows are
 * read-only through the API. chaos_experiment_sources records what the backend last read from
 * each source and every problem it found there, for the entity's page and the API.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.alterTable('chaos_experiments', table => {
    table
      .string('managed_by', 16)
      .nullable()
      .comment(
        "'location' or 'cluster' for experiments kept as code; null when made through the API",
      );
    table
      .string('source_key', 512)
      .nullable()
      .comment('Key of the chaos_experiment_sources row that defines it');
    table
      .text('source')
      .nullable()
      .comment(
        'Where it is defined: the file URL, or cluster/namespace/name of the ChaosExperiment',
      );
    table
      .text('source_url')
      .nullable()
      .comment('A link to the source for people, when there is one');
    table.index(['source_key'], 'chaos_experiments_source_key_idx');
  });
  await knex.schema.createTable('chaos_experiment_sources', table => {
    table.comment(
      'Sources of experiments kept as code, as last read, with the problems found there',
    );
    table
      .string('key', 512)
      .primary()
      .notNullable()
      .comment('location:<entityRef> or cluster:<cluster>:<entityRef>');
    table.string('kind', 16).notNullable().comment("'location' or 'cluster'");
    table
      .string('entity_ref', 255)
      .notNullable()
      .comment('The entity whose experiments it defines');
    table
      .text('location')
      .notNullable()
      .comment('The resolved location, or the cluster name');
    table
      .timestamp('checked_at', { useTz: true })
      .notNullable()
      .comment('When it was last read');
    table
      .integer('experiment_count')
      .notNullable()
      .defaultTo(0)
      .comment('Experiments in effect from it');
    table
      .text('problems')
      .notNullable()
      .comment('JSON: problems found on the last read');
    table.index(['entity_ref'], 'chaos_experiment_sources_entity_idx');
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('chaos_experiment_sources');
  await knex('chaos_experiments').whereNotNull('managed_by').delete();
  await knex.schema.alterTable('chaos_experiments', table => {
    table.dropIndex(['source_key'], 'chaos_experiments_source_key_idx');
    table.dropColumn('managed_by');
    table.dropColumn('source_key');
    table.dropColumn('source');
    table.dropColumn('source_url');
  });
};
