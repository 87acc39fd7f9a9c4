import type { CoreV1Api, V1ObjectReference } from '@kubernetes/client-node';
import type { Logger } from '../log';

/** A Kubernetes Event, as a small typed value: `kubectl describe` shows what chaos did. */
export interface ChaosEvent {
  regarding: V1ObjectReference;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

const REPORTING_COMPONENT = 'chaoscraft-agent';

/** client-go's broadcaster holds at most this many events; beyond it, new ones are dropped. */
export const MAX_QUEUED_EVENTS = 1000;

/**
 * Emits core/v1 Events off the critical path: recording an event must never slow an injection
 * nor fail a run, so emit() queues and returns, and flush() (on shutdown) awaits what is left.
 *
 * One event is sent at a time, in order, as client-go's broadcaster sends them: a run of 1,000
 * targets emits 1,000 Events, and sent all at once they would compete with its kills for the API
 * server (its own token bucket keeps them off the kills' client, not off the server). Past
 * MAX_QUEUED_EVENTS waiting, new events are dropped with a warning.
 */
export class EventRecorder {
  /** Each event with the time it happened, which is the time it is stamped with when sent. */
  private readonly queue: { event: ChaosEvent; at: Date }[] = [];
  private draining: Promise<void> | undefined;
  /** Whether this drain has warned of dropped events yet: one warning per backlog. */
  private warnedOfDrops = false;

  constructor(
    private readonly core: CoreV1Api,
    private readonly log: Logger,
    private readonly instance: string,
  ) {}

  emit(event: ChaosEvent): void {
    if (this.queue.length >= MAX_QUEUED_EVENTS) {
      if (!this.warnedOfDrops) {
        this.warnedOfDrops = true;
        this.log.warn(
          { queued: this.queue.length, reason: event.reason },
          'too many Kubernetes Events waiting to be recorded; dropping new ones',
        );
      }
      return;
    }
    this.queue.push({ event, at: new Date() });
    this.draining ??= this.drain();
  }

  /** Resolves when every event emitted so far has been sent (or has failed). */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length) {
        const { event, at } = this.queue.shift()!;
        await this.send(event, at);
      }
    } finally {
      this.draining = undefined;
      this.warnedOfDrops = false;
    }
  }

  private async send(event: ChaosEvent, now: Date): Promise<void> {
    const namespace = event.regarding.namespace ?? 'default';
    try {
      await this.core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { generateName: `${event.regarding.name}.`, namespace },
          involvedObject: event.regarding,
          type: event.type,
          reason: event.reason,
          message: event.message.slice(0, 1024),
          source: { component: REPORTING_COMPONENT },
          reportingComponent: REPORTING_COMPONENT,
          reportingInstance: this.instance,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
    } catch (error) {
      this.log.warn(
        { err: String(error), reason: event.reason },
        'could not record a Kubernetes Event',
      );
    }
  }
}
