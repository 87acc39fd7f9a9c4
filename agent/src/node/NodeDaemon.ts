import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import {
  chaosRunSpecSchema,
  ChaosRunSpec,
  isNetworkFault,
  NetworkFault,
  TargetPhase,
  TargetRecord,
} from '@chaoscraft/backstage-plugin-chaos-common';
import type { Logger } from 'pino';
import {
  CommandError,
  FaultUnsupportedError,
  NodeNetworkCapabilities,
} from '../faults/network';
import {
  assessRun,
  CHAOS_RUN_API,
  ChaosRunObject,
  isOwnRecord,
  RunAssessment,
  runLabel,
} from './chaosRun';
import { crashPoint } from './crashPoint';
import { Ledger, LedgerEntry } from './Ledger';
import { NetnsNotFoundError, NetnsResolver } from './netns';
import {
  InjectionRefusedError,
  NetworkInjector,
  NetworkTarget,
  netnsInode,
} from './NetworkInjector';
import { apiCode, RecordUpdate, RecordWriter, RunRef } from './RecordWriter';
import { RunWatch } from './RunWatch';

export interface NodeDaemonConfig {
  nodeName: string;
  kc: KubeConfig;
  ledger: Ledger;
  resolver: NetnsResolver;
  capabilities: NodeNetworkCapabilities;
  logger: Logger;
  /** Dead-man's switch: revert when the run's heartbeat is older than this. */
  heartbeatTimeoutMs: number;
  /** How often every run with faults on this node is re-checked, whatever the watch says. */
  checkIntervalMs: number;
}

/** Records the controller hands over, and those this daemon has put faults behind. */
const WANTS_INJECTION: readonly TargetPhase[] = ['Selected', 'Injecting'];
const MAY_HOLD_FAULT: readonly TargetPhase[] = [
  'Selected',
  'Injecting',
  'Injected',
  'Recovering',
];

/**
 * The node role: for the ChaosRuns whose records name this node, keeps each network fault in
 * place exactly while its run wants it (assessRun), with the ledger as the list of what exists.
 * Work is serialized per run; watch events and a timer both only enqueue a run.
 */
export class NodeDaemon {
  private readonly injector: NetworkInjector;
  private readonly writer: RecordWriter;
  private readonly api: CustomObjectsApi;
  private readonly watch: RunWatch;
  private readonly queued = new Set<string>();
  private readonly running = new Map<string, Promise<void>>();
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly config: NodeDaemonConfig,
    hostNetnsInode?: number,
  ) {
    this.injector = new NetworkInjector({
      ledger: config.ledger,
      resolver: config.resolver,
      capabilities: config.capabilities,
      hostNetnsInode,
    });
    this.api = config.kc.makeApiClient(CustomObjectsApi);
    this.writer = new RecordWriter(this.api, config.nodeName);
    this.watch = new RunWatch({
      kc: config.kc,
      logger: config.logger,
      onChange: uid => this.enqueue(uid),
    });
  }

  /** Janitor first, then watch and timer. Resolves once running. */
  async start(): Promise<void> {
    await this.janitor();
    await this.watch.start();
    this.timer = setInterval(() => this.tick(), this.config.checkIntervalMs);
    this.tick();
  }

  /**
   * Stops watching and waits for work in progress. With `revert` (what SIGTERM does) every held
   * fault is removed first: a daemon that is going away, perhaps for good (uninstall, node
   * drain), must not leave faults nobody will revert. Records stay Injected, so a daemon that
   * starts again while the run is live injects them again.
   */
  async stop(options: { revert?: boolean } = {}): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.watch.stop();
    await Promise.allSettled([...this.running.values()]);
    if (options.revert) {
      for (const entry of this.config.ledger.entries()) {
        await this.recoverEntry(
          entry,
          'DaemonStopping',
          'the node daemon is stopping',
          entry.run.uid,
        );
      }
    }
  }

  /**
   * Start-up: whatever the ledger holds for a run that is no longer live (deleted, terminal,
   * rolling back, heartbeat stale, or not confirmable because the API server is unreachable)
   * is reverted, and so is every partial injection; fully applied faults of live runs stay.
   */
  async janitor(): Promise<void> {
    const byRun = new Map<string, LedgerEntry[]>();
    for (const entry of this.config.ledger.entries()) {
      byRun.set(entry.run.uid, [...(byRun.get(entry.run.uid) ?? []), entry]);
    }
    for (const [uid, entries] of byRun) {
      const { run } = entries[0];
      const fresh = await this.readRun(run);
      const assessment = fresh.ok
        ? this.assess(fresh.run)
        : ({
            inject: false,
            reason: 'HeartbeatLost',
            message: fresh.message,
          } as const);
      for (const entry of entries) {
        if (assessment.inject && entry.appliedAt) {
          continue;
        }
        const why = assessment.inject
          ? {
              reason: 'PartialInjection',
              message: 'reverting an injection a crash interrupted',
            }
          : assessment;
        await this.recoverEntry(entry, why.reason, why.message, uid);
        if (!assessment.inject && fresh.ok && fresh.run) {
          await this.writeRecords(fresh.run, [
            recovered(
              entry.target.pod,
              entry.target.fault,
              why.reason,
              `janitor: ${why.message}`,
            ),
          ]);
        }
      }
    }
    await this.config.ledger.compact();
  }

  private tick(): void {
    if (this.stopped) {
      return;
    }
    const uids = new Set(
      this.config.ledger.entries().map(entry => entry.run.uid),
    );
    for (const run of this.watch.all()) {
      const uid = run.metadata?.uid;
      if (
        uid &&
        (run.status?.targets ?? []).some(r =>
          isOwnRecord(r, this.config.nodeName),
        )
      ) {
        uids.add(uid);
      }
    }
    for (const uid of uids) {
      this.enqueue(uid);
    }
  }

  /** Runs reconcile(uid) once more after whatever is in progress for it. */
  private enqueue(uid: string): void {
    if (this.stopped || this.queued.has(uid)) {
      return;
    }
    this.queued.add(uid);
    const previous = this.running.get(uid) ?? Promise.resolve();
    const next = previous.then(async () => {
      this.queued.delete(uid);
      try {
        await this.reconcile(uid);
      } catch (error) {
        this.config.logger.error(
          { err: error, runUid: uid },
          'reconcile failed; retrying on the next check',
        );
      }
    });
    this.running.set(uid, next);
    void next.finally(() => {
      if (this.running.get(uid) === next) {
        this.running.delete(uid);
      }
    });
  }

  private assess(run: ChaosRunObject | undefined): RunAssessment {
    return assessRun(run, Date.now(), this.config.heartbeatTimeoutMs);
  }

  /** Reads one run from the API server; ok:false when it cannot be read (not for 404). */
  private async readRun(ref: {
    namespace: string;
    name: string;
    uid: string;
  }): Promise<
    { ok: true; run?: ChaosRunObject } | { ok: false; message: string }
  > {
    try {
      const run = (await this.api.getNamespacedCustomObject({
        ...CHAOS_RUN_API,
        namespace: ref.namespace,
        name: ref.name,
      })) as ChaosRunObject;
      return { ok: true, run: run.metadata?.uid === ref.uid ? run : undefined };
    } catch (error) {
      if (apiCode(error) === 404) {
        return { ok: true, run: undefined };
      }
      return {
        ok: false,
        message: `the run cannot be read from the API server (${String(
          error,
        )}): reverting`,
      };
    }
  }

  async reconcile(uid: string): Promise<void> {
    let run = this.watch.get(uid);
    let assessment = this.assess(run);
    const held = this.config.ledger.entriesForRun(uid);
    if (
      !assessment.inject &&
      held.length > 0 &&
      (assessment.reason === 'RunDeleted' ||
        assessment.reason === 'HeartbeatLost')
    ) {
      // Before reverting on what the cache says (deleted, stale heartbeat), ask the API server:
      // a stalled watch must not revert a healthy run. If it cannot answer, revert anyway.
      const ref = run?.metadata ? runRef(run) : held[0].run;
      const fresh = await this.readRun(ref);
      if (fresh.ok) {
        run = fresh.run;
        assessment = this.assess(run);
      }
    }
    const logger = this.config.logger.child({
      runUid: uid,
      run: run
        ? runLabel(run)
        : `${held[0]?.run.namespace}/${held[0]?.run.name}`,
    });
    if (assessment.inject && run) {
      await this.inject(run, logger);
    } else if (!assessment.inject) {
      await this.revert(uid, run, assessment, logger);
    }
  }

  private async inject(run: ChaosRunObject, logger: Logger): Promise<void> {
    const own = (run.status?.targets ?? []).filter(r =>
      isOwnRecord(r, this.config.nodeName),
    );
    if (own.length === 0) {
      return;
    }
    const parsed = chaosRunSpecSchema.safeParse(run.spec);
    const updates: RecordUpdate[] = [];
    for (const record of own) {
      const entry = this.config.ledger.entryForKey(
        this.injector.keyOf(
          targetOf(run, record, parsed.success ? parsed.data : undefined),
        ),
      );
      const wanted =
        WANTS_INJECTION.includes(record.phase) ||
        (record.phase === 'Injected' && !entry?.appliedAt);
      if (!wanted) {
        continue;
      }
      if (!parsed.success) {
        updates.push(
          failed(
            record,
            'InvalidSpec',
            `the run's spec is invalid: ${parsed.error.message}`,
          ),
        );
        continue;
      }
      const target = targetOf(run, record, parsed.data);
      if (!target.fault || !isNetworkFault(target.fault)) {
        updates.push(
          failed(
            record,
            'FaultNotInSpec',
            `the spec has no ${record.fault} fault`,
          ),
        );
        continue;
      }
      const networkTarget = target as NetworkTarget;
      try {
        const applied = await this.injector.apply(networkTarget);
        const notes = applied.notes.length
          ? `; ${applied.notes.join('; ')}`
          : '';
        logger.info(
          {
            pod: record.pod,
            fault: record.fault,
            netns: applied.netns.path,
            objects: applied.objects,
          },
          `injected ${record.fault} on ${record.pod}`,
        );
        updates.push({
          pod: record.pod,
          fault: record.fault,
          phase: 'Injected',
          reason: applied.notes.some(n => n.startsWith('netem unavailable'))
            ? 'InjectedWithFallback'
            : 'Injected',
          message: `${record.fault} in ${applied.netns.path}${notes}`,
        });
      } catch (error) {
        const { reason, message } = explainFailure(error);
        logger.warn(
          { pod: record.pod, fault: record.fault, reason, err: error },
          `injection failed: ${message}`,
        );
        updates.push(failed(record, reason, message));
      }
    }
    await this.writeRecords(run, updates);
    if (updates.some(u => u.phase === 'Injected')) {
      crashPoint('after-injected-status');
    }
  }

  private async revert(
    uid: string,
    run: ChaosRunObject | undefined,
    assessment: Exclude<RunAssessment, { inject: true }>,
    logger: Logger,
  ): Promise<void> {
    const updates: RecordUpdate[] = [];
    const reverted = new Set<string>();
    for (const entry of this.config.ledger.entriesForRun(uid)) {
      const outcome = await this.recoverEntry(
        entry,
        assessment.reason,
        assessment.message,
        uid,
        logger,
      );
      if (outcome) {
        reverted.add(`${entry.target.pod}/${entry.target.fault}`);
        updates.push(
          recovered(
            entry.target.pod,
            entry.target.fault,
            assessment.reason,
            `${assessment.message}${
              outcome === 'netns-gone'
                ? ' (the pod network namespace is gone)'
                : ''
            }`,
          ),
        );
      }
    }
    if (
      run &&
      assessment.reason !== 'NotStarted' &&
      assessment.reason !== 'RunDeleted'
    ) {
      for (const record of run.status?.targets ?? []) {
        if (
          !isOwnRecord(record, this.config.nodeName) ||
          reverted.has(`${record.pod}/${record.fault}`) ||
          !MAY_HOLD_FAULT.includes(record.phase)
        ) {
          continue;
        }
        if (record.phase === 'Selected') {
          // Never injected. Rolling back or finished: say so, so the controller stops waiting.
          // A stale heartbeat alone leaves it Selected: the controller may yet come back.
          if (assessment.reason !== 'HeartbeatLost') {
            updates.push(
              recovered(
                record.pod,
                record.fault,
                'NotInjected',
                `${assessment.message}; nothing was injected`,
              ),
            );
          }
          continue;
        }
        updates.push(
          recovered(
            record.pod,
            record.fault,
            assessment.reason,
            `${assessment.message}; nothing held on this node`,
          ),
        );
      }
    }
    if (run) {
      await this.writeRecords(run, updates);
    }
  }

  /** Recovers one ledger entry; logs and keeps it held (retried next check) on failure. */
  private async recoverEntry(
    entry: LedgerEntry,
    reason: string,
    message: string,
    uid: string,
    logger: Logger = this.config.logger.child({ runUid: uid }),
  ): Promise<'removed' | 'netns-gone' | undefined> {
    try {
      const outcome = await this.injector.recover(entry);
      logger.info(
        {
          pod: entry.target.pod,
          fault: entry.target.fault,
          reason,
          outcome,
          objects: entry.objects,
        },
        `recovered ${entry.target.fault} on ${entry.target.pod}: ${message}`,
      );
      return outcome;
    } catch (error) {
      logger.error(
        { err: error, pod: entry.target.pod, fault: entry.target.fault },
        'recovery failed; will retry',
      );
      return undefined;
    }
  }

  private async writeRecords(
    run: ChaosRunObject,
    updates: RecordUpdate[],
  ): Promise<void> {
    if (updates.length === 0 || !run.metadata) {
      return;
    }
    await this.writer.update(runRef(run), updates);
  }
}

function runRef(run: ChaosRunObject): RunRef {
  return {
    namespace: run.metadata!.namespace!,
    name: run.metadata!.name!,
    uid: run.metadata!.uid!,
  };
}

/** The network target a record stands for. The fault is the spec's first of the record's type. */
function targetOf(
  run: ChaosRunObject,
  record: TargetRecord,
  spec: ChaosRunSpec | undefined,
): Omit<NetworkTarget, 'fault'> & { fault: NetworkFault } {
  const fault = spec?.faults.find(f => f.type === record.fault) as
    | NetworkFault
    | undefined;
  return {
    run: runRef(run),
    podNamespace: spec?.target.namespace ?? run.metadata?.namespace ?? '',
    pod: record.pod,
    podUid: record.uid,
    container: spec?.target.container,
    fault: fault ?? ({ type: record.fault } as NetworkFault),
  };
}

function failed(
  record: TargetRecord,
  reason: string,
  message: string,
): RecordUpdate {
  return {
    pod: record.pod,
    fault: record.fault,
    phase: 'Failed',
    reason,
    message,
    onlyFrom: ['Selected', 'Injecting', 'Injected'],
  };
}

function recovered(
  pod: string,
  fault: string,
  reason: string,
  message: string,
): RecordUpdate {
  return {
    pod,
    fault,
    phase: 'Recovered',
    reason,
    message,
    onlyFrom: MAY_HOLD_FAULT,
  };
}

/** A CamelCase reason and a sentence for a failed injection. */
export function explainFailure(error: unknown): {
  reason: string;
  message: string;
} {
  if (
    error instanceof FaultUnsupportedError ||
    error instanceof InjectionRefusedError
  ) {
    return { reason: error.reason, message: error.message };
  }
  if (error instanceof NetnsNotFoundError) {
    return { reason: 'NetnsNotFound', message: error.message };
  }
  if (error instanceof CommandError) {
    if (
      /NLM_F_REPLACE|Exclusivity flag|File exists|Chain already exists/i.test(
        error.stderr,
      )
    ) {
      return {
        reason: 'DeviceBusy',
        message: `another qdisc or chain is already in place (another fault?): ${error.message}`,
      };
    }
    if (/Cannot find device/i.test(error.stderr)) {
      return { reason: 'DeviceNotFound', message: error.message };
    }
    return { reason: 'CommandFailed', message: error.message };
  }
  return { reason: 'InjectionFailed', message: String(error) };
}

export { netnsInode };
