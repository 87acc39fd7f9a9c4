import type { LoggerService } from '@backstage/backend-plugin-api';
import { CHAOS_RUN_ID_LABEL } from '@chaoscraft/backstage-plugin-chaos-common';
import {
  chaosRunsPath,
  ResilientInformer,
} from '@chaoscraft/backstage-plugin-chaos-node';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  ChaosRunGateway,
  type ChaosRunObject,
} from '../cluster/ChaosRunGateway';

/**
 * The ChaosRuns labelled `chaoscraft.io/run-id` in one cluster, through the shared resilient
 * informer (list, watch, relist with backoff). It only delivers objects; what to trust and how
 * to store it is the mirror's.
 */
export class ChaosRunWatch {
  private readonly informer: ResilientInformer<ChaosRunObject>;

  constructor(options: {
    cluster: string;
    kubeConfig: KubeConfig;
    logger: LoggerService;
    onObject(cluster: string, object: ChaosRunObject): void;
    relistPeriodMs?: number;
  }) {
    const gateway = new ChaosRunGateway(options.kubeConfig);
    this.informer = new ResilientInformer<ChaosRunObject>({
      kc: options.kubeConfig,
      path: chaosRunsPath(),
      labelSelector: CHAOS_RUN_ID_LABEL,
      list: () => gateway.listOwned(),
      relistPeriodMs: options.relistPeriodMs ?? 60_000,
      onEvent: (event, object) => {
        if (event !== 'delete') options.onObject(options.cluster, object);
      },
      onError: (error, delayMs) =>
        options.logger.info(
          `Chaos run watch on cluster ${options.cluster} failed (${error}); restarting in ${delayMs} ms`,
        ),
    });
  }

  start(): void {
    this.informer.start();
  }

  stop(): void {
    this.informer.stop().catch(() => undefined);
  }
}
