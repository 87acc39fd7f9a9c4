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

/**
 * Emits core/v1 Events off the critical path: recording an event must never slow an injection
 * nor fail a run, so emit() queues and returns, and flush() (on shutdown) awaits what is left.
 */
export class EventRecorder {
  private pending = new Set<Promise<void>>();

  constructor(
    private readonly core: CoreV1Api,
    private readonly log: Logger,
    private readonly instance: string,
  ) {}

  emit(event: ChaosEvent): void {
    const sent = this.send(event).finally(() => this.pending.delete(sent));
    this.pending.add(sent);
  }

  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  private async send(event: ChaosEvent): Promise<void> {
    const now = new Date();
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
