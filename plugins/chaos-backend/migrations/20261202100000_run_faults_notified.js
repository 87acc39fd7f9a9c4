// @ts-check

/**
 * What the resilience score and the end-of-run notification need, indexed:
 * - `chaos_run_faults`: one row per (run, fault type), written with the run, so the score reads
 *   "the newest passed run of each fault type of this entity" from an index instead of parsing
 *   every run's spec JSON. Existing runs are backfilled from their spec.
 * - `chaos_runs.notified_at`: set, once, by the backend instance that sends a run's end
 *   notification (a conditional update claims it), so a run is announced once however many
 *   instances or status replays see it end.
 * - an index on (entity_ref, verdict, finished_at) for the score's range scan.
 *
 * @param {import('knex').Knex} knex
 */
exports.up = async function up(knex) {
  await knex.schema.createTable('chaos_run_faults', table => {
    table.comment('Fault types of each run, for the resilience score');
    table
      .uuid('run_id')
      .notNullable()
      .references('id')
      .inTable('chaos_runs')
      .onDelete('CASCADE');
    table
      .string('fault_type', 32)
      .notNullable()
      .comment('A fault type of the run, e.g. network-loss');
    table.primary(['run_id', 'fault_type']);
  });
  await knex.schema.alterTable('chaos_runs', table => {
    table
      .timestamp('notified_at', { useTz: true })
      .nullable()
      .comment('When the end-of-run notification was claimed and sent');
    table.index(
      ['entity_ref', 'verdict', 'finished_at'],
      'chaos_runs_entity_verdict_finished_idx',
    );
  });

  const BATCH = 500;
  for (let offset = 0; ; offset += BATCH) {
    const runs = await knex('chaos_runs')
      .select('id', 'spec')
      .orderBy('id')
      .offset(offset)
      .limit(BATCH);
    if (runs.length === 0) break;
    const rows = [];
    for (const run of runs) {
      let faults = [];
      try {
        faults = JSON.parse(run.spec).faults ?? [];
      } catch {
        faults = [];
      }
      const types = new Set(
        faults
          .map((/** @type {{type?: unknown}} */ f) => f?.type)
          .filter((/** @type {unknown} */ t) => typeof t === 'string'),
      );
      for (const type of types) rows.push({ run_id: run.id, fault_type: type });
    }
    if (rows.length) await knex.batchInsert('chaos_run_faults', rows, 200);
  }
};

/** @param {import('knex').Knex} knex */
exports.down = async function down(knex) {
  await knex.schema.alterTable('chaos_runs', table => {
    table.dropIndex(
      ['entity_ref', 'verdict', 'finished_at'],
      'chaos_runs_entity_verdict_finished_idx',
    );
    table.dropColumn('notified_at');
  });
  await knex.schema.dropTable('chaos_run_faults');
};
