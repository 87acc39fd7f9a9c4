// @ts-check

/**
 * Experiments, and the durable history of their runs. Runs outlive the experiment that
 * started them (experiment_id is set null on delete) and carry a snapshot of its spec.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('chaos_experiments', table => {
    table.comment('Chaos experiments attached to catalog entities');
    table.uuid('id').primary().notNullable().comment('Experiment id');
    table
      .string('entity_ref', 255)
      .notNullable()
      .comment('Full ref of the entity the experiment belongs to');
    table.string('name', 63).notNullable().comment('Name, unique per entity');
    table
      .text('spec')
      .notNullable()
      .comment('The experiment spec as JSON, defaults applied');
    table
      .string('created_by', 255)
      .notNullable()
      .comment('User entity ref of the creator');
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('updated_at', { useTz: true }).notNullable();
    table.unique(['entity_ref', 'name'], {
      indexName: 'chaos_experiments_entity_name_uniq',
    });
    table.index(
      ['entity_ref', 'created_at'],
      'chaos_experiments_entity_created_idx',
    );
  });

  await knex.schema.createTable('chaos_runs', table => {
    table.comment(
      'One execution of an experiment: the durable mirror of a ChaosRun',
    );
    table
      .uuid('id')
      .primary()
      .notNullable()
      .comment('Run id, also the ChaosRun label chaoscraft.io/run-id');
    table
      .uuid('experiment_id')
      .nullable()
      .references('id')
      .inTable('chaos_experiments')
      .onDelete('SET NULL')
      .comment(
        'Experiment that started it; null once that experiment is deleted',
      );
    table.string('entity_ref', 255).notNullable();
    table
      .string('cluster', 255)
      .notNullable()
      .comment('Cluster name from the backend config');
    table
      .string('namespace', 63)
      .notNullable()
      .comment('Namespace of the ChaosRun');
    table
      .string('resource_name', 253)
      .notNullable()
      .comment('metadata.name of the ChaosRun');
    table.boolean('dry_run').notNullable().defaultTo(false);
    table
      .text('spec')
      .notNullable()
      .comment('Snapshot of the run spec as JSON');
    table.string('phase', 32).notNullable().comment('Last mirrored phase');
    table.string('verdict', 32).nullable();
    table.string('reason', 128).nullable();
    table.text('message').nullable();
    table
      .text('blast_radius')
      .nullable()
      .comment('JSON: selected, eligible, percent, limit');
    table
      .text('probes')
      .nullable()
      .comment('JSON: per-probe results with bounded samples');
    table
      .string('resource_version', 64)
      .nullable()
      .comment('Last mirrored resourceVersion, for idempotent resync');
    table.string('created_by', 255).notNullable();
    table.timestamp('created_at', { useTz: true }).notNullable();
    table.timestamp('updated_at', { useTz: true }).notNullable();
    table.timestamp('started_at', { useTz: true }).nullable();
    table.timestamp('finished_at', { useTz: true }).nullable();
    table.index(['entity_ref', 'created_at'], 'chaos_runs_entity_created_idx');
    table.index(['phase'], 'chaos_runs_phase_idx');
  });

  await knex.schema.createTable('chaos_run_events', table => {
    table.comment(
      'Phase transitions of a run, its timeline; one row per phase reached',
    );
    table
      .uuid('run_id')
      .notNullable()
      .references('id')
      .inTable('chaos_runs')
      .onDelete('CASCADE');
    table.string('phase', 32).notNullable();
    table.timestamp('time', { useTz: true }).notNullable();
    table.string('reason', 128).nullable();
    table.text('message').nullable();
    table.primary(['run_id', 'phase']);
  });

  await knex.schema.createTable('chaos_run_targets', table => {
    table.comment(
      'Per-target records of a run: what happened to each pod for each fault',
    );
    table
      .uuid('run_id')
      .notNullable()
      .references('id')
      .inTable('chaos_runs')
      .onDelete('CASCADE');
    table.string('pod', 253).notNullable();
    table.string('fault', 32).notNullable();
    table.string('node', 253).nullable();
    table.string('phase', 32).notNullable();
    table.string('reason', 128).nullable();
    table.text('message').nullable();
    table.timestamp('injected_at', { useTz: true }).nullable();
    table.timestamp('recovered_at', { useTz: true }).nullable();
    table.text('events').nullable().comment('JSON: bounded event list');
    table.primary(['run_id', 'pod', 'fault']);
  });
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.dropTable('chaos_run_targets');
  await knex.schema.dropTable('chaos_run_events');
  await knex.schema.dropTable('chaos_runs');
  await knex.schema.dropTable('chaos_experiments');
};
