import { Backoff } from '../informer/backoff';

export interface WorkResult {
  /** Reconcile this key again after this long (timers: duration end, heartbeat). */
  requeueAfterMs?: number;
}

export type Worker = (key: string) => Promise<WorkResult>;

/** A failed work item: it runs again after `delayMs` (per-key exponential backoff). */
export type WorkFailureHandler = (
  key: string,
  error: unknown,
  delayMs: number,
) => void;

/**
 * A work queue that never runs two reconciles of the same key at once (as client-go's
 * workqueue): a key added while it is being processed is marked dirty and runs again right
 * after. Different keys proceed in parallel, up to `concurrency`. The controller's runs, the node
 * daemons' runs and the backend's mirror each drain one.
 */
export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly active = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<
    string,
    { at: number; timer: NodeJS.Timeout }
  >();
  private readonly failures = new Map<string, Backoff>();
  private readonly inFlight = new Set<Promise<void>>();
  private running = false;

  constructor(
    private readonly worker: Worker,
    private readonly onFailure: WorkFailureHandler,
    private readonly concurrency = 4,
  ) {}

  start(): void {
    this.running = true;
    this.pump();
  }

  /** Stops taking work, cancels timers, and waits for reconciles in flight to finish. */
  async stop(): Promise<void> {
    this.running = false;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.queue.length = 0;
    this.queued.clear();
    this.dirty.clear();
    await Promise.all([...this.inFlight]);
  }

  add(key: string): void {
    if (this.active.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (!this.queued.has(key)) {
      this.queued.add(key);
      this.queue.push(key);
    }
    this.pump();
  }

  /** Adds the key after a delay; an earlier pending timer for the same key wins. */
  addAfter(key: string, delayMs: number): void {
    const at = Date.now() + delayMs;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, Math.max(0, delayMs));
    this.timers.set(key, { at, timer });
  }

  /** Forgets a key's timers and failure history (the run is gone). */
  forget(key: string): void {
    const existing = this.timers.get(key);
    if (existing) clearTimeout(existing.timer);
    this.timers.delete(key);
    this.failures.delete(key);
  }

  get size(): number {
    return this.queue.length + this.active.size;
  }

  private pump(): void {
    while (
      this.running &&
      this.active.size < this.concurrency &&
      this.queue.length > 0
    ) {
      const key = this.queue.shift()!;
      this.queued.delete(key);
      this.active.add(key);
      const work = this.process(key).finally(() => this.inFlight.delete(work));
      this.inFlight.add(work);
    }
  }

  private async process(key: string): Promise<void> {
    try {
      const result = await this.worker(key);
      this.failures.delete(key);
      if (result.requeueAfterMs !== undefined && this.running) {
        this.addAfter(key, result.requeueAfterMs);
      }
    } catch (error) {
      const backoff = this.failures.get(key) ?? new Backoff(200, 30_000);
      this.failures.set(key, backoff);
      const delayMs = backoff.next();
      this.onFailure(key, error, delayMs);
      if (this.running) this.addAfter(key, delayMs);
    } finally {
      this.active.delete(key);
      if (this.dirty.delete(key) && this.running) {
        this.add(key);
      }
      this.pump();
    }
  }
}
