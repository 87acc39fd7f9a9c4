import type {
  BlastRadius,
  ChaosRunStatus,
  Page,
  PhaseTransition,
  ProbeResult,
  Run,
  RunDetail,
  RunPhase,
  StepRecord,
  TargetRecord,
  Verdict,
} from '@chaoscraft/backstage-plugin-chaos-common';
import {
  RUN_PHASES,
  TERMINAL_PHASES,
} from '@chaoscraft/backstage-plugin-chaos-common';
import type { DatabaseService } from '@backstage/backend-plugin-api';
import { ConflictError } from '@backstage/errors';
import { Knex } from 'knex';
import { Clock, systemClock } from '../clock';
import { migrateChaosDatabase } from './DatabaseExperimentStore';
import {
  ChaosRunRef,
  ListOptions,
  LiveRunLimits,
  NewRun,
  RunStore,
} from './RunStore';
import { encodeRunCursor } from './runCursor';
import { pgIsoTimestamps, toIsoString } from './timestamps';

type RunRow = {
  id: string;
  experiment_id: string | null;
  experiment_name: string;
  entity_ref: string;
  cluster: string;
  namespace: string;
  resource_name: string;
  dry_run: boolean | number;
  spec: string;
  phase: RunPhase;
  verdict: Verdict | null;
  reason: string | null;
  message: string | null;
  blast_radius: string | null;
  probes: string | null;
  steps: string | null;
  abort_latency_ms: number | null;
  resource_version: string | null;
  resource_uid?: string | null;
  status_version?: number;
  created_by: string;
  created_at: Date | string;
  updated_at: Date | string;
  started_at: Date | string | null;
  finished_at: Date | string | null;
};

/**
 * Rows per upsert of a status's targets: 10 columns each, so 5,000 bound values, well within
 * PostgreSQL's 65,535 and SQLite's 32,766.
 */
export const TARGET_UPSERT_ROWS = 500;

/** A target record's key: a status's record for one pod and fault. */
const TARGET_KEY = ['run_id', 'pod', 'fault'];

/**
 * The condition on which an upsert rewrites a target record: one of the row's other columns
 * changed. A status lists every target on each write, and most of a large run's records are the
 * same as last time. (`IS DISTINCT FROM` is null-safe, on PostgreSQL and on SQLite since 3.39.)
 */
function targetRecordChanged(row: TargetRow): string {
  return Object.keys(row)
    .filter(column => !TARGET_KEY.includes(column))
    .map(
      column =>
        `chaos_run_targets.${column} is distinct from excluded.${column}`,
    )
    .join(' or ');
}

/** What toRun reads: a list leaves the spec, probes and steps (the large columns) in the table. */
export const RUN_SUMMARY_COLUMNS = [
  'id',
  'experiment_id',
  'experiment_name',
  'entity_ref',
  'cluster',
  'namespace',
  'resource_name',
  'dry_run',
  'phase',
  'verdict',
  'reason',
  'message',
  'blast_radius',
  'created_by',
  'created_at',
  'updated_at',
  'started_at',
  'finished_at',
] as const;

type TargetRow = {
  run_id: string;
  pod: string;
  fault: string;
  node: string | null;
  phase: string;
  reason: string | null;
  message: string | null;
  injected_at: Date | string | null;
  recovered_at: Date | string | null;
  events: string | null;
};

/** One phase of a run's timeline, as stored. */
type EventRow = {
  run_id: string;
  time: Date | string | number;
  phase: string;
  reason: string | null;
  message: string | null;
};

const optionalIso = (v: Date | string | null | undefined): string | undefined =>
  v === null || v === undefined ? undefined : toIsoString(v);
const optionalDate = (v: string | undefined): Date | null =>
  v ? new Date(v) : null;

/** A sum as the driver hands it back: PostgreSQL's bigint sum as a string, null over no rows. */
type TotalCount = number | string | null | undefined;

/** Runs on Knex; shares the database and migrations with the experiment store. */
export class DatabaseRunStore implements RunStore {
  static async create(options: {
    database: DatabaseService;
    clock?: Clock;
  }): Promise<DatabaseRunStore> {
    return new DatabaseRunStore(
      await migrateChaosDatabase(options.database),
      options.clock ?? systemClock,
    );
  }

  /**
   * For reads whose rows go straight to the API: on PostgreSQL, timestamps come back as the API's
   * ISO strings, not as Dates to be written out again.
   */
  private readonly apiRead: Readonly<Record<string, unknown>>;

  private constructor(
    private readonly db: Knex,
    private readonly clock: Clock,
  ) {
    this.apiRead = this.isPostgres() ? { types: pgIsoTimestamps } : {};
  }

  private isPostgres(): boolean {
    return String(this.db.client.config.client).includes('pg');
  }

  async create(run: NewRun, limits?: LiveRunLimits): Promise<Run> {
    const now = this.clock.now();
    const row: RunRow = {
      id: run.id,
      experiment_id: run.experimentId,
      experiment_name: run.experimentName,
      entity_ref: run.entityRef,
      cluster: run.cluster,
      namespace: run.namespace,
      resource_name: run.resourceName,
      dry_run: run.dryRun,
      spec: JSON.stringify(run.spec),
      phase: 'Pending',
      verdict: null,
      reason: null,
      message: null,
      blast_radius: null,
      probes: null,
      steps: null,
      abort_latency_ms: null,
      resource_version: null,
      created_by: run.createdBy,
      created_at: now,
      updated_at: now,
      started_at: null,
      finished_at: null,
    };
    await this.db.transaction(async tx => {
      if (limits) await this.checkLiveRunLimits(tx, run, limits);
      await tx('chaos_runs').insert(row);
      await tx('chaos_run_counts')
        .insert({ entity_ref: run.entityRef, run_count: 1 })
        .onConflict('entity_ref')
        .merge({ run_count: tx.raw('?? + 1', ['chaos_run_counts.run_count']) });
      const faultTypes = faultTypesOf(run.spec);
      if (faultTypes.length)
        await tx('chaos_run_faults').insert(
          faultTypes.map(fault_type => ({ run_id: run.id, fault_type })),
        );
      await tx('chaos_run_events').insert({
        run_id: run.id,
        phase: 'Pending',
        time: now,
        reason: 'Created',
        message: `Run requested by ${run.createdBy}`,
      });
    });
    return toRun(row);
  }

  async get(id: string): Promise<RunDetail | undefined> {
    // The three reads at once, not the run first: an id that names no run is the rare case.
    const [row, targets, events] = await Promise.all([
      this.db<RunRow>('chaos_runs').where({ id }).options(this.apiRead).first(),
      this.db<TargetRow>('chaos_run_targets')
        .where({ run_id: id })
        .orderBy(['pod', 'fault'])
        .options(this.apiRead),
      this.db<EventRow>('chaos_run_events')
        .where({ run_id: id })
        .options(this.apiRead),
    ]);
    if (!row) return undefined;
    const timeline = events
      .map(e => ({
        time: toIsoString(e.time),
        phase: e.phase as RunPhase,
        reason: e.reason ?? undefined,
        message: e.message ?? undefined,
      }))
      // Phases only move forward, so their order is the timeline's. The backend stamps Pending
      // and the agent the rest, on two clocks that may disagree: time only breaks ties.
      .sort(
        (a, b) =>
          RUN_PHASES.indexOf(a.phase) - RUN_PHASES.indexOf(b.phase) ||
          a.time.localeCompare(b.time),
      );
    return {
      ...toRun(row),
      targets: targets.map(toTarget),
      probes: row.probes ? (JSON.parse(row.probes) as ProbeResult[]) : [],
      steps: row.steps ? (JSON.parse(row.steps) as StepRecord[]) : [],
      ...(row.abort_latency_ms !== null && row.abort_latency_ms !== undefined
        ? { abortLatencyMs: Number(row.abort_latency_ms) }
        : {}),
      timeline,
    };
  }

  async summary(id: string): Promise<Run | undefined> {
    const row: RunRow | undefined = await this.db('chaos_runs')
      .where({ id })
      .options(this.apiRead)
      .first();
    return row ? toRun(row) : undefined;
  }

  async claimNotification(id: string): Promise<boolean> {
    const claimed = await this.db('chaos_runs')
      .where({ id })
      .whereNull('notified_at')
      .update({ notified_at: this.clock.now() });
    return claimed === 1;
  }

  async releaseNotification(id: string): Promise<void> {
    await this.db('chaos_runs').where({ id }).update({ notified_at: null });
  }

  /**
   * One experiment, one live run; one entity, at most `maxPerEntity` (dry runs aside). On PostgreSQL the entity's
   * experiment rows are locked first, so two concurrent starts for one entity serialize here;
   * SQLite has a single writer, so its transactions already do.
   */
  private async checkLiveRunLimits(
    tx: Knex.Transaction,
    run: NewRun,
    limits: LiveRunLimits,
  ): Promise<void> {
    // A dry run disrupts nothing: it neither counts toward the limits nor is held by them.
    if (run.dryRun) return;
    if (this.isPostgres()) {
      await tx('chaos_experiments')
        .where({ entity_ref: run.entityRef })
        .forUpdate()
        .select('id');
    }
    const live = (): Knex.QueryBuilder =>
      tx('chaos_runs')
        .whereNotIn('phase', [...TERMINAL_PHASES])
        .andWhere('dry_run', false);
    const sameExperiment = await live()
      .where({ experiment_id: run.experimentId })
      .first('id');
    if (sameExperiment) {
      throw new ConflictError(
        `Experiment ${run.experimentName} already has a live run (${sameExperiment.id}): one at a time`,
      );
    }
    const [{ count }] = await live()
      .where({ entity_ref: run.entityRef })
      .count<[{ count: number | string }]>({ count: '*' });
    if (Number(count) >= limits.maxPerEntity) {
      throw new ConflictError(
        `${run.entityRef} already has ${count} live runs, the most it may have at once (chaos.ceilings.maxLiveRunsPerEntity)`,
      );
    }
  }

  async list({
    entityRef,
    entityRefs,
    offset,
    limit,
    after,
  }: ListOptions): Promise<Page<Run>> {
    const scoped = (table: string): Knex.QueryBuilder => {
      let query = this.db(table);
      if (entityRef) query = query.where({ entity_ref: entityRef });
      if (entityRefs) query = query.whereIn('entity_ref', entityRefs);
      return query;
    };
    // The total from the per-entity counts kept with each insert, not by counting the runs, and
    // read by the page's own statement (a scalar subquery both databases evaluate once): one
    // round trip per page, not two. Only an empty page asks for it on its own.
    const total = scoped('chaos_run_counts').sum({ count: 'run_count' });
    let page = scoped('chaos_runs').select([
      ...RUN_SUMMARY_COLUMNS,
      total.clone().as('total_count'),
    ]);
    if (after) {
      // Right after the cursor's run in (created_at desc, id asc) order. The `<=` alone bounds the
      // index range; without it SQLite ORs two index searches and sorts all they find.
      page = page
        .where('created_at', '<=', after.createdAt)
        .where(q =>
          q
            .where('created_at', '<', after.createdAt)
            .orWhere('id', '>', after.id),
        );
    }
    page = page.orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'id', order: 'asc' },
    ]);
    if (offset) page = page.offset(offset);
    // One row more than the page: whether another page follows.
    const rows: (RunRow & { total_count: TotalCount })[] = await page
      .limit(limit + 1)
      .options(this.apiRead);
    const count: TotalCount = rows.length
      ? rows[0].total_count
      : (await total)[0]?.count;
    const items = rows.slice(0, limit).map(toRun);
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return {
      items,
      totalCount: Number(count ?? 0),
      offset,
      limit,
      ...(last && {
        nextCursor: encodeRunCursor({
          createdAt: new Date(last.created_at),
          id: last.id,
        }),
      }),
    };
  }

  async listEntityRefs(): Promise<string[]> {
    return (await this.db('chaos_run_counts').select('entity_ref')).map(
      (r: { entity_ref: string }) => r.entity_ref,
    );
  }

  async resourceUid(id: string): Promise<string | undefined> {
    const row: Pick<RunRow, 'resource_uid'> | undefined = await this.db(
      'chaos_runs',
    )
      .where({ id })
      .first('resource_uid');
    return row?.resource_uid ?? undefined;
  }

  async listLive(): Promise<Run[]> {
    const rows: RunRow[] = await this.db('chaos_runs').whereNotIn('phase', [
      ...TERMINAL_PHASES,
    ]);
    return rows.map(toRun);
  }

  async applyStatus(
    ref: ChaosRunRef,
    status: Partial<ChaosRunStatus>,
    resourceVersion?: string,
  ): Promise<boolean> {
    return this.apply(
      ref.id,
      status,
      resourceVersion,
      row => {
        // Only the object the backend created: same cluster, namespace and name, and the same uid
        // once bound. A ChaosRun made elsewhere with a copied run-id label changes nothing.
        if (
          row.cluster !== ref.cluster ||
          row.namespace !== ref.namespace ||
          row.resource_name !== ref.resourceName
        )
          return false;
        if (row.resource_uid && ref.uid && row.resource_uid !== ref.uid)
          return false;
        return true;
      },
      ref.uid,
    );
  }

  /**
   * Applies a status in a transaction that reads the row (FOR UPDATE on PostgreSQL) and writes it
   * back only if its status_version is still the one read: a concurrent writer makes this one
   * re-read and re-apply, so no write is ever based on a stale row, on SQLite as on PostgreSQL.
   */
  private async apply(
    id: string,
    status: Partial<ChaosRunStatus>,
    resourceVersion: string | undefined,
    accept: (row: RunRow) => boolean,
    uid?: string,
  ): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const outcome = await this.db.transaction(async tx => {
        let query = tx('chaos_runs').where({ id });
        if (this.isPostgres()) query = query.forUpdate();
        const row: RunRow | undefined = await query.first();
        if (!row || !accept(row)) return 'refused' as const;
        // A terminal record is final, and phases only move forward: a late or replayed event
        // (resourceVersions are opaque, so order is judged by phase) never rewinds a run.
        if (TERMINAL_PHASES.includes(row.phase) && status.phase !== row.phase)
          return 'applied' as const;
        if (
          status.phase &&
          RUN_PHASES.indexOf(status.phase) < RUN_PHASES.indexOf(row.phase)
        )
          return 'applied' as const;
        const phase = status.phase ?? row.phase;
        const version = Number(row.status_version ?? 0);
        const updated = await tx('chaos_runs')
          .where({ id, status_version: version })
          .update({
            phase,
            verdict: status.verdict ?? row.verdict,
            reason: status.reason ?? row.reason,
            message: status.message ?? row.message,
            blast_radius: status.blastRadius
              ? JSON.stringify(status.blastRadius)
              : row.blast_radius,
            probes: status.probes?.length
              ? JSON.stringify(status.probes)
              : row.probes,
            steps: status.steps?.length
              ? JSON.stringify(status.steps)
              : row.steps,
            abort_latency_ms: status.abortLatencyMs ?? row.abort_latency_ms,
            resource_version: resourceVersion ?? row.resource_version,
            resource_uid: row.resource_uid ?? uid ?? null,
            started_at: optionalDate(status.startedAt) ?? row.started_at,
            finished_at: optionalDate(status.finishedAt) ?? row.finished_at,
            updated_at: this.clock.now(),
            status_version: version + 1,
          });
        if (updated === 0) return 'stale' as const;

        const transitions = transitionsOf(status, this.clock);
        if (transitions.length)
          await tx('chaos_run_events')
            .insert(
              transitions.map(t => ({
                run_id: id,
                phase: t.phase,
                time: new Date(t.time),
                reason: t.reason ?? null,
                message: t.message ?? null,
              })),
            )
            .onConflict(['run_id', 'phase'])
            .ignore();

        // A status lists every target, so a run of 1,000 brings 1,000 records on each write:
        // they go in a few multi-row upserts, not a statement each (see TARGET_UPSERT_ROWS),
        // which leave the records that did not change as they are.
        const rows = targetRows(id, status.targets ?? []);
        for (let i = 0; i < rows.length; i += TARGET_UPSERT_ROWS) {
          await tx('chaos_run_targets')
            .insert(rows.slice(i, i + TARGET_UPSERT_ROWS))
            .onConflict(TARGET_KEY)
            .merge()
            .whereRaw(targetRecordChanged(rows[i]));
        }
        return 'applied' as const;
      });
      if (outcome !== 'stale') return outcome === 'applied';
    }
    throw new ConflictError(
      `Run ${id} kept changing while its status was applied`,
    );
  }

  async note(id: string, reason: string, message: string): Promise<void> {
    await this.db('chaos_runs')
      .where({ id, phase: 'Pending' })
      .update({ reason, message, updated_at: this.clock.now() });
  }

  async fail(id: string, reason: string, message: string): Promise<void> {
    const now = this.clock.now().toISOString();
    await this.apply(
      id,
      {
        phase: 'Failed',
        verdict: 'Inconclusive',
        reason,
        message,
        finishedAt: now,
        phaseTransitions: [{ phase: 'Failed', time: now, reason, message }],
      },
      undefined,
      () => true,
    );
  }
}

/** The distinct fault types a run spec names: what the resilience score counts per run. */
export function faultTypesOf(spec: unknown): string[] {
  const faults =
    (spec as { faults?: Array<{ type?: unknown }> } | undefined)?.faults ?? [];
  return [
    ...new Set(
      faults
        .map(f => f?.type)
        .filter((t): t is string => typeof t === 'string'),
    ),
  ];
}

/** The phases a status reports; an agent that writes no transitions still yields its phase. */
function transitionsOf(
  status: Partial<ChaosRunStatus>,
  clock: Clock,
): PhaseTransition[] {
  if (status.phaseTransitions?.length) return status.phaseTransitions;
  if (!status.phase) return [];
  return [
    {
      phase: status.phase,
      time: clock.now().toISOString(),
      reason: status.reason,
      message: status.message,
    },
  ];
}

function toRun(row: Pick<RunRow, (typeof RUN_SUMMARY_COLUMNS)[number]>): Run {
  return {
    id: row.id,
    experimentId: row.experiment_id ?? '',
    experimentName: row.experiment_name,
    entityRef: row.entity_ref,
    cluster: row.cluster,
    namespace: row.namespace,
    resourceName: row.resource_name,
    dryRun: Boolean(row.dry_run),
    phase: row.phase,
    verdict: row.verdict ?? undefined,
    reason: row.reason ?? undefined,
    message: row.message ?? undefined,
    blastRadius: row.blast_radius
      ? (JSON.parse(row.blast_radius) as BlastRadius)
      : undefined,
    createdBy: row.created_by,
    createdAt: toIsoString(row.created_at),
    updatedAt: toIsoString(row.updated_at),
    startedAt: optionalIso(row.started_at),
    finishedAt: optionalIso(row.finished_at),
  };
}

function toTarget(row: TargetRow): TargetRecord {
  return {
    pod: row.pod,
    fault: row.fault as TargetRecord['fault'],
    node: row.node ?? undefined,
    phase: row.phase as TargetRecord['phase'],
    reason: row.reason ?? undefined,
    message: row.message ?? undefined,
    injectedAt: optionalIso(row.injected_at),
    recoveredAt: optionalIso(row.recovered_at),
    events: row.events ? JSON.parse(row.events) : [],
  };
}

/**
 * A status's target records as rows, one per (pod, fault): one listed twice keeps its last record,
 * as writing them one by one did (PostgreSQL refuses a multi-row upsert that touches one row twice).
 */
function targetRows(runId: string, targets: TargetRecord[]): TargetRow[] {
  const byKey = new Map<string, TargetRow>();
  for (const t of targets)
    byKey.set(`${t.pod}\u0000${t.fault}`, fromTarget(runId, t));
  return [...byKey.values()];
}

function fromTarget(runId: string, t: TargetRecord): TargetRow {
  return {
    run_id: runId,
    pod: t.pod,
    fault: t.fault,
    node: t.node ?? null,
    phase: t.phase,
    reason: t.reason ?? null,
    message: t.message ?? null,
    injected_at: optionalDate(t.injectedAt),
    recovered_at: optionalDate(t.recoveredAt),
    events: JSON.stringify(t.events ?? []),
  };
}
