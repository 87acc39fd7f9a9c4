import {
  CoordinationV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  V1Lease,
  V1MicroTime,
} from '@kubernetes/client-node';
import { isNotFound } from '@chaoscraft/backstage-plugin-chaos-node';
import type { Logger } from 'pino';
import type { NodeCapabilities } from '../faults/network';
import {
  CAPABILITIES_ANNOTATION,
  NODE_DAEMON_LABEL,
  NODE_LEASE_DURATION_S,
  NODE_LEASE_RENEW_MS,
  NODE_NAME_LABEL,
  nodeLeaseName,
} from '../kube/nodeDaemonLease';

/**
 * Keeps this node's daemon Lease fresh (see kube/nodeDaemonLease.ts) while the daemon runs, and
 * deletes it when the daemon stops, so the controller knows which nodes can take node faults.
 */
export class NodeDaemonLease {
  private readonly api: CoordinationV1Api;
  private readonly name: string;
  private timer?: NodeJS.Timeout;

  constructor(
    kc: KubeConfig,
    private readonly options: {
      namespace: string;
      nodeName: string;
      capabilities: NodeCapabilities;
      logger: Logger;
    },
  ) {
    this.api = kc.makeApiClient(CoordinationV1Api);
    this.name = nodeLeaseName(options.nodeName);
  }

  /** Publishes the lease (failing start-up if it cannot), then renews it on a timer. */
  async start(): Promise<void> {
    await this.renew();
    this.timer = setInterval(() => {
      this.renew().catch(error =>
        this.options.logger.warn(
          { err: String(error), lease: this.name },
          'node daemon lease renewal failed',
        ),
      );
    }, NODE_LEASE_RENEW_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    try {
      await this.api.deleteNamespacedLease({
        name: this.name,
        namespace: this.options.namespace,
      });
    } catch (error) {
      if (!isNotFound(error))
        this.options.logger.warn(
          { err: String(error), lease: this.name },
          'could not delete the node daemon lease',
        );
    }
  }

  private async renew(): Promise<void> {
    const { namespace, nodeName, capabilities } = this.options;
    const now = new Date();
    // MicroTime: the API server wants six fractional digits, which Date.toISOString() lacks.
    const micro = now.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
    const lease: V1Lease = {
      metadata: {
        name: this.name,
        namespace,
        labels: { [NODE_DAEMON_LABEL]: 'true', [NODE_NAME_LABEL]: nodeName },
        annotations: {
          [CAPABILITIES_ANNOTATION]: JSON.stringify(capabilities),
        },
      },
      spec: {
        holderIdentity: nodeName,
        leaseDurationSeconds: NODE_LEASE_DURATION_S,
        renewTime: micro as never,
      },
    };
    try {
      await this.api.patchNamespacedLease(
        { name: this.name, namespace, body: lease },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await this.api.createNamespacedLease({
        namespace,
        body: {
          ...lease,
          spec: {
            ...lease.spec,
            acquireTime: new V1MicroTime(now),
            renewTime: new V1MicroTime(now),
          },
        },
      });
    }
  }
}
