import type {
  Page,
  Run,
  RunDetail,
  ChaosRunStatus,
} from '@chaoscraft/backstage-plugin-chaos-common';
import type {
  ChaosRunRef,
  ListOptions,
  LiveRunLimits,
  NewRun,
  RunStore,
} from '../database/RunStore';
import type { RunChangeFeed } from './RunChangeFeed';

/**
 * A RunStore that reports every write that changed a run to the change feed, after it is
 * committed: the one place every change passes, whichever path made it (the Run button, a
 * schedule, the mirror's watch and resync, a failed create).
 */
export class ObservedRunStore implements RunStore {
  constructor(
    private readonly inner: RunStore,
    private readonly feed: RunChangeFeed,
  ) {}

  private async report(id: string): Promise<void> {
    const run = await this.inner.summary(id).catch(() => undefined);
    if (run) await this.feed.changed(run);
  }

  async create(run: NewRun, limits?: LiveRunLimits): Promise<Run> {
    const created = await this.inner.create(run, limits);
    await this.feed.changed(created);
    return created;
  }

  async applyStatus(
    ref: ChaosRunRef,
    status: Partial<ChaosRunStatus>,
    resourceVersion?: string,
  ): Promise<boolean> {
    const applied = await this.inner.applyStatus(ref, status, resourceVersion);
    if (applied) await this.report(ref.id);
    return applied;
  }

  async fail(id: string, reason: string, message: string): Promise<void> {
    await this.inner.fail(id, reason, message);
    await this.report(id);
  }

  async note(id: string, reason: string, message: string): Promise<void> {
    await this.inner.note(id, reason, message);
    await this.report(id);
  }

  get(id: string): Promise<RunDetail | undefined> {
    return this.inner.get(id);
  }

  summary(id: string): Promise<Run | undefined> {
    return this.inner.summary(id);
  }

  list(options: ListOptions): Promise<Page<Run>> {
    return this.inner.list(options);
  }

  listEntityRefs(): Promise<string[]> {
    return this.inner.listEntityRefs();
  }

  listLive(): Promise<Run[]> {
    return this.inner.listLive();
  }

  resourceUid(id: string): Promise<string | undefined> {
    return this.inner.resourceUid(id);
  }

  claimNotification(id: string): Promise<boolean> {
    return this.inner.claimNotification(id);
  }

  releaseNotification(id: string): Promise<void> {
    return this.inner.releaseNotification(id);
  }
}
