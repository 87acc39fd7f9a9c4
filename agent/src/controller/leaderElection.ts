import {
  CoordinationV1Api,
  V1Lease,
  V1MicroTime,
} from '@kubernetes/client-node';
import type { Logger } from '../log';
import {
  apiErrorCode,
  isConflict,
  isNotFound,
  Sleeper,
} from '@chaoscraft/backstage-plugin-chaos-node';

export interface LeaderElectionOptions {
  namespace: string;
  leaseName: string;
  /** Unique per replica: the pod name in a cluster. */
  identity: string;
  /** How long a lease stays valid without renewal; others wait this long before taking over. */
  leaseDurationMs: number;
  /** A leader that could not renew for this long steps down (must be < leaseDurationMs). */
  renewDeadlineMs: number;
  /** Pause between attempts to acquire or renew. */
  retryPeriodMs: number;
}

export interface LeadershipCallbacks {
  onStartedLeading(): void;
  onStoppedLeading(): void;
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it
 * (client-node has none). Every write carries the lease's resourceVersion, so of two replicas
 * racing for an expired lease exactly one wins and the other gets 409. Expiry is judged by
 * when THIS replica last saw the lease change, not by comparing the holder's clock to ours.
 */
export class LeaderElector {
  private leading = false;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly sleeper = new Sleeper();
  private observed:
    | { holder?: string; renewTime?: string; at: number }
    | undefined;

  constructor(
    private readonly coordination: CoordinationV1Api,
    private readonly options: LeaderElectionOptions,
    private readonly callbacks: LeadershipCallbacks,
    private readonly log: Logger,
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops campaigning; a leader releases the lease so that a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.sleeper.interrupt();
    await this.loop;
    if (this.leading) {
      this.leading = false;
      await this.release();
      this.callbacks.onStoppedLeading();
    }
  }

  private async run(): Promise<void> {
    let lastRenewal = 0;
    while (!this.stopped) {
      let acquired = false;
      try {
        acquired = await this.tryAcquireOrRenew();
      } catch (error) {
        this.log.warn({ err: String(error) }, 'lease acquire/renew failed');
      }
      if (this.stopped) break;
      const now = Date.now();
      if (acquired) {
        lastRenewal = now;
        if (!this.leading) {
          this.leading = true;
          this.log.info(
            { lease: this.options.leaseName, identity: this.options.identity },
            'became leader',
          );
          this.callbacks.onStartedLeading();
        }
      } else if (
        this.leading &&
        now - lastRenewal > this.options.renewDeadlineMs
      ) {
        // Could not renew in time: another replica may take over soon, so stop acting first.
        this.leading = false;
        this.log.warn({ lease: this.options.leaseName }, 'lost leadership');
        this.callbacks.onStoppedLeading();
      }
      await this.sleeper.sleep(this.options.retryPeriodMs);
    }
  }

  private leaseBody(existing: V1Lease | undefined, now: Date): V1Lease {
    const spec = existing?.spec ?? {};
    const changedHands = spec.holderIdentity !== this.options.identity;
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        ...(existing?.metadata ?? {}),
        name: this.options.leaseName,
        namespace: this.options.namespace,
      },
      spec: {
        holderIdentity: this.options.identity,
        leaseDurationSeconds: Math.max(
          1,
          Math.round(this.options.leaseDurationMs / 1000),
        ),
        // MicroTime: the API server wants microseconds, which a plain Date does not serialize.
        acquireTime: new V1MicroTime(
          changedHands ? now : spec.acquireTime ?? now,
        ),
        renewTime: new V1MicroTime(now),
        leaseTransitions:
          (spec.leaseTransitions ?? 0) + (changedHands && existing ? 1 : 0),
      },
    };
  }

  /** One attempt; true when this replica holds the lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, leaseName: name, identity } = this.options;
    const now = new Date();
    let lease: V1Lease;
    try {
      lease = await this.coordination.readNamespacedLease({ name, namespace });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      try {
        await this.coordination.createNamespacedLease({
          namespace,
          body: this.leaseBody(undefined, now),
        });
        return true;
      } catch (createError) {
        if (apiErrorCode(createError) === 409) return false;
        throw createError;
      }
    }
    const holder = lease.spec?.holderIdentity || undefined;
    const renewTime = lease.spec?.renewTime
      ? new Date(lease.spec.renewTime).toISOString()
      : undefined;
    if (
      !this.observed ||
      this.observed.holder !== holder ||
      this.observed.renewTime !== renewTime
    ) {
      this.observed = { holder, renewTime, at: Date.now() };
    }
    const durationMs = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    if (
      holder &&
      holder !== identity &&
      this.observed.at + durationMs > Date.now()
    ) {
      return false;
    }
    try {
      await this.coordination.replaceNamespacedLease({
        name,
        namespace,
        body: this.leaseBody(lease, now),
      });
      return true;
    } catch (error) {
      if (isConflict(error)) return false;
      throw error;
    }
  }

  private async release(): Promise<void> {
    const { namespace, leaseName: name, identity } = this.options;
    try {
      const lease = await this.coordination.readNamespacedLease({
        name,
        namespace,
      });
      if (lease.spec?.holderIdentity !== identity) return;
      await this.coordination.replaceNamespacedLease({
        name,
        namespace,
        body: {
          ...lease,
          spec: {
            ...lease.spec,
            holderIdentity: '',
            leaseDurationSeconds: 1,
            acquireTime: lease.spec?.acquireTime
              ? new V1MicroTime(lease.spec.acquireTime)
              : undefined,
            renewTime: new V1MicroTime(),
          },
        },
      });
      this.log.info({ lease: name }, 'released the leader lease');
    } catch (error) {
      this.log.warn(
        { err: String(error) },
        'could not release the leader lease',
      );
    }
  }
}
