import { KubeConfig } from '@kubernetes/client-node';
import {
  chaosRunSpecSchema,
  parseDuration,
  type ChaosRunSpec,
  type TargetRecord,
} from '@chaoscraft/backstage-plugin-chaos-common';
import {
  ChaosRunClient,
  chaosRunsPath,
  ResilientInformer,
  RUN_SPAN_ATTRIBUTES,
  runSpanAttributes,
  runTraceContext,
  StatusWriter,
  WorkQueue,
  type ChaosRunResource,
  type RecordUpdate,
} from '@chaoscraft/backstage-plugin-chaos-node';
import type { Logger } from 'pino';
import { SpanStatusCode } from '@opentelemetry/api';
import { FaultRouter, type FaultContext, type FaultOutcome } from '../faults';
import { runLogger } from '../log';
import { agentTracer } from '../tracing';
import type { NodeCapabilities } from '../faults/network';
import { crashPoint } from './crashPoint';
import { runInNamespaceLanes } from './namespaceLanes';
import { FreshRun, JanitorDeps, runJanitor } from './janitor';
import { Ledger, LedgerEntry, LedgerRun, targetKey } from './Ledger';
import type { NetnsResolver } from './netns';
import {
  failedUpdate,
  MAY_HOLD_FAULT,
  outcomeUpdate,
  recoveredUpdate,
  WANTS_INJECTION,
} from './recordUpdates';
import { NodeDaemonLease } from './nodeLease';
import { assessRun, isOwnRecord, RunAssessment } from './runAssessment';

/**
 * Runs a node daemon's action on one target as a span of the run's trace (the ChaosRun's
 * traceparent), ended with the action's outcome.
 */
async function traced(
  run: ChaosRunResource,
  name: string,
  record: Pick<TargetRecord, 'pod' | 'fault'>,
  node: string,
  action: () => Promise<FaultOutcome>,
): Promise<FaultOutcome> {
  const span = agentTracer().startSpan(
    name,
    {
      attributes: {
        ...runSpanAttributes(run),
        [RUN_SPAN_ATTRIBUTES.fault]: record.fault,
        [RUN_SPAN_ATTRIBUTES.pod]: record.pod,
        [RUN_SPAN_ATTRIBUTES.node]: node,
      },
    },
    runTraceContext(run),
  );
  try {
    const outcome = await action();
    span.setAttributes({
      'chaoscraft.target.phase': outcome.phase,
      'chaoscraft.target.reason': outcome.reason,
    });
    if (outcome.phase === 'Failed')
      span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.message });
    return outcome;
  } finally {
    span.end();
  }
}

/** Beyond the run's own length, how long a self-running fault may outlive a lost daemon. */
const DEADLINE_MARGIN_MS = 5 * 60_000;

export interface NodeDaemonConfig {
  nodeName: string;
  /** The agent's namespace, where this node's daemon Lease is kept. */
  namespace: string;
  kc: KubeConfig;
  ledger: Ledger;
  resolver: NetnsResolver;
  capabilities: NodeCapabilities;
  /** The node's cgroup filesystem, for stress faults (default /sys/fs/cgroup). */
  cgroupRoot?: string;
  logger: Logger;
  /** Dead-man's switch: revert when the run's heartbeat is older than this. */
  heartbeatTimeoutMs: number;
  /** How often every run with faults on this node is re-checked, whatever the watch says. */
  checkIntervalMs: number;
  /** A full relist of ChaosRuns this often, against watches that stall silently. Default 60 s. */
  relistPeriodMs?: number;
}

/**
 * The node role: for the ChaosRuns whose records name this node, keeps each node fault in place
 * exactly while its run wants it (assessRun), with the ledger as the list of what exists. Runs
 * come from the shared informer (keyed by uid); work is serialized per run by the shared work
 * queue; records are written by the shared status writer, touching only this node's records.
 */
export class NodeDaemon implements JanitorDeps {
  private readonly faults: FaultRouter;
  private readonly runs: ChaosRunClient;
  private readonly status: StatusWriter;
  private readonly informer: ResilientInformer<ChaosRunResource>;
  private readonly queue: WorkQueue;
  private readonly lease: NodeDaemonLease;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly config: NodeDaemonConfig,
    hostNetnsInode?: number,
  ) {
    this.faults = FaultRouter.forNode({
      ledger: config.ledger,
      resolver: config.resolver,
      capabilities: config.capabilities,
      hostNetnsInode,
      cgroupRoot: config.cgroupRoot,
    });
    this.runs = new ChaosRunClient(config.kc);
    this.status = new StatusWriter(this.runs);
    this.informer = new ResilientInformer<ChaosRunResource>({
      kc: config.kc,
      path: chaosRunsPath(),
      list: async () => {
        const list = await this.runs.list();
        return {
          items: list.items,
          resourceVersion: list.metadata?.resourceVersion,
        };
      },
      keyOf: run => run.metadata.uid!,
      relistPeriodMs: config.relistPeriodMs ?? 60_000,
      onEvent: (_event, run) => this.enqueue(run.metadata.uid!),
      onError: (error, delayMs) =>
        config.logger.warn(
          { err: error, delayMs },
          'ChaosRun list/watch failed; relisting',
        ),
    });
    this.lease = new NodeDaemonLease(config.kc, {
      namespace: config.namespace,
      nodeName: config.nodeName,
      capabilities: config.capabilities,
      logger: config.logger,
    });
    this.queue = new WorkQueue(
      async uid => {
        await this.reconcile(uid);
        return {};
      },
      (uid, error, delayMs) =>
        config.logger.error(
          { err: error, runUid: uid, delayMs },
          'reconcile failed; retrying',
        ),
    );
  }

  get ledger(): Ledger {
    return this.config.ledger;
  }

  /**
   * Janitor first, then the informer, the queue and the timer; the lease last, so the
   * controller sends node faults here only once the daemon can act. Resolves once running.
   */
  async start(): Promise<void> {
    const janitorStarted = Date.now();
    const held = this.config.ledger.entries().length;
    this.config.logger.info({ held }, 'janitor started');
    await runJanitor(this);
    this.config.logger.info(
      {
        held,
        left: this.config.ledger.entries().length,
        ms: Date.now() - janitorStarted,
      },
      'janitor done',
    );
    this.informer.start();
    await this.informer.whenSynced();
    this.queue.start();
    this.timer = setInterval(() => this.tick(), this.config.checkIntervalMs);
    this.tick();
    await this.lease.start();
  }

  /**
   * Stops watching and waits for work in progress. With `revert` (what SIGTERM does) every held
   * fault is removed first: a daemon that is going away, perhaps for good (uninstall, node
   * drain), must not leave faults nobody will revert. Records stay Injected, so a daemon that
   * starts again while the run is live injects them again.
   */
  async stop(options: { revert?: boolean } = {}): Promise<void> {
    await this.lease.stop();
    this.stopped = true;
    clearInterval(this.timer);
    await this.informer.stop();
    await this.queue.stop();
    if (options.revert) {
      // Within the pod's termination grace period: namespaces in parallel, as on a run's end.
      await runInNamespaceLanes(
        this.config.ledger.entries().map(entry => ({
          entry,
          run: async () => {
            await this.recoverEntry(
              entry,
              'DaemonStopping',
              'the node daemon is stopping',
            );
          },
        })),
      );
    }
  }

  /** Every run this node holds a fault for or has records on, enqueued again. */
  private tick(): void {
    if (this.stopped) return;
    const uids = new Set(
      this.config.ledger.entries().map(entry => entry.run.uid),
    );
    for (const run of this.informer.list()) {
      if ((run.status?.targets ?? []).some(record => this.owns(record)))
        uids.add(run.metadata.uid!);
    }
    uids.forEach(uid => this.enqueue(uid));
  }

  private enqueue(uid: string): void {
    if (!this.stopped) this.queue.add(uid);
  }

  private owns = (record: TargetRecord): boolean =>
    isOwnRecord(record, this.config.nodeName, this.faults);

  assess(run: ChaosRunResource | undefined): RunAssessment {
    return assessRun(run, Date.now(), this.config.heartbeatTimeoutMs);
  }

  async readRun(ref: LedgerRun): Promise<FreshRun> {
    try {
      const run = await this.runs.find(ref.namespace, ref.name);
      return { ok: true, run: run?.metadata.uid === ref.uid ? run : undefined };
    } catch (error) {
      return {
        ok: false,
        message: `the run cannot be read from the API server (${String(
          error,
        )}): reverting`,
      };
    }
  }

  async reconcile(uid: string): Promise<void> {
    let run = this.informer.get(uid);
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
      const fresh = await this.readRun(run ? ledgerRun(run) : held[0].run);
      if (fresh.ok) {
        run = fresh.run;
        assessment = this.assess(run);
      }
    }
    const logger = run
      ? runLogger(this.config.logger, run).child({ runUid: uid })
      : this.config.logger.child({
          runUid: uid,
          run: `${held[0]?.run.namespace}/${held[0]?.run.name}`,
        });
    if (assessment.inject && run) {
      await this.inject(run, logger);
    } else if (!assessment.inject) {
      await this.revert(uid, run, assessment, logger);
    }
  }

  /** Applies the node faults of this node's records that want them, through the registry. */
  private async inject(run: ChaosRunResource, logger: Logger): Promise<void> {
    const own = (run.status?.targets ?? []).filter(this.owns);
    if (own.length === 0) return;
    const parsed = chaosRunSpecSchema.safeParse(run.spec);
    const context: FaultContext = { run: ledgerRun(run), log: logger };
    const updates: RecordUpdate[] = [];
    for (const record of own) {
      const namespace = parsed.success
        ? parsed.data.target.namespace
        : run.metadata.namespace!;
      const target = {
        namespace,
        pod: record.pod,
        uid: record.uid,
        node: record.node,
      };
      const entry = this.config.ledger.entryForKey(
        targetKey({
          runUid: run.metadata.uid!,
          podNamespace: namespace,
          pod: record.pod,
          fault: record.fault,
        }),
      );
      const wanted =
        WANTS_INJECTION.includes(record.phase) ||
        (record.phase === 'Injected' && !entry?.appliedAt);
      if (!wanted) continue;
      if (!parsed.success) {
        updates.push(
          failedUpdate(
            record,
            'InvalidSpec',
            `the run's spec is invalid: ${parsed.error.message}`,
          ),
        );
        continue;
      }
      const fault = parsed.data.faults.find(f => f.type === record.fault);
      if (!fault) {
        updates.push(
          failedUpdate(
            record,
            'FaultNotInSpec',
            `the spec has no ${record.fault} fault`,
          ),
        );
        continue;
      }
      const outcome = await traced(
        run,
        `chaos.node.apply ${fault.type}`,
        record,
        this.config.nodeName,
        () =>
          this.faults
            .route(fault.type)
            .apply(
              { ...target, container: parsed.data.target.container },
              fault,
              {
                ...context,
                safety: parsed.data.safety,
                deadlineMs: runLengthMs(parsed.data) + DEADLINE_MARGIN_MS,
              },
            ),
      );
      updates.push(outcomeUpdate(record, outcome));
    }
    await this.writeRecords(run, updates);
    if (updates.some(update => update.phase === 'Injected'))
      crashPoint('after-injected-status');
  }

  /** Lets go of every fault this node holds for the run, and says so on its records. */
  private async revert(
    uid: string,
    run: ChaosRunResource | undefined,
    assessment: Exclude<RunAssessment, { inject: true }>,
    logger: Logger,
  ): Promise<void> {
    // Up to REVERT_CONCURRENCY namespaces at once, as the janitor does; the records keep the
    // ledger's order, however the reverts interleave.
    const entries = this.config.ledger.entriesForRun(uid);
    const outcomes: Array<RecordUpdate | undefined> = [];
    await runInNamespaceLanes(
      entries.map((entry, i) => ({
        entry,
        run: async () => {
          const outcome = await this.recoverOne(
            entry,
            assessment.reason,
            assessment.message,
            logger,
          );
          if (!outcome) return;
          const { pod, podUid, fault } = entry.target;
          outcomes[i] = recoveredUpdate(
            { pod, uid: podUid, fault },
            assessment.reason,
            `${assessment.message}; ${outcome.message}`,
          );
        },
      })),
    );
    const updates = outcomes.filter((u): u is RecordUpdate => !!u);
    const reverted = new Set(updates.map(u => `${u.pod}/${u.fault}`));
    if (
      run &&
      assessment.reason !== 'NotStarted' &&
      assessment.reason !== 'RunDeleted'
    ) {
      for (const record of run.status?.targets ?? []) {
        if (
          !this.owns(record) ||
          reverted.has(`${record.pod}/${record.fault}`) ||
          !MAY_HOLD_FAULT.includes(record.phase)
        )
          continue;
        if (record.phase === 'Selected') {
          // Never injected. Rolling back or finished: say so, so the controller stops waiting.
          // A stale heartbeat alone leaves it Selected: the controller may yet come back.
          if (assessment.reason !== 'HeartbeatLost') {
            updates.push(
              recoveredUpdate(
                record,
                'NotInjected',
                `${assessment.message}; nothing was injected`,
              ),
            );
          }
          continue;
        }
        updates.push(
          recoveredUpdate(
            record,
            assessment.reason,
            `${assessment.message}; nothing held on this node`,
          ),
        );
      }
    }
    if (run) await this.writeRecords(run, updates);
  }

  async recoverEntry(
    entry: LedgerEntry,
    reason: string,
    message: string,
  ): Promise<boolean> {
    return (await this.recoverOne(entry, reason, message)) !== undefined;
  }

  /** Recovers one held fault through its fault type; logs and keeps it held on failure. */
  private async recoverOne(
    entry: LedgerEntry,
    reason: string,
    message: string,
    logger: Logger = this.config.logger.child({ runUid: entry.run.uid }),
  ) {
    const { pod, podUid, podNamespace, fault } = entry.target;
    const started = Date.now();
    try {
      const outcome = (await this.faults
        .route(fault)
        .recover(
          { namespace: podNamespace, pod, uid: podUid },
          { run: entry.run, log: logger },
        )) ?? {
        phase: 'Recovered' as const,
        reason: 'NothingHeld',
        message: 'nothing was held',
        eventType: 'Normal' as const,
      };
      logger.info(
        {
          pod,
          fault,
          reason,
          outcome: outcome.message,
          objects: entry.objects,
          ms: Date.now() - started,
        },
        `recovered ${fault} on ${pod}: ${message}`,
      );
      return outcome;
    } catch (error) {
      logger.error({ err: error, pod, fault }, 'recovery failed; will retry');
      return undefined;
    }
  }

  async writeRecords(
    run: ChaosRunResource,
    updates: RecordUpdate[],
  ): Promise<void> {
    if (updates.length === 0) return;
    await this.status.updateRecords(run, updates, this.owns);
  }
}

/** How long a run wants its faults: its duration, or its progressive steps' holds together. */
function runLengthMs(spec: ChaosRunSpec): number {
  const holds = (spec.safety.progressiveSteps ?? []).reduce(
    (sum, step) => sum + parseDuration(step.hold),
    0,
  );
  return Math.max(parseDuration(spec.duration), holds);
}

function ledgerRun(run: ChaosRunResource): LedgerRun {
  return {
    namespace: run.metadata.namespace!,
    name: run.metadata.name!,
    uid: run.metadata.uid!,
  };
}
