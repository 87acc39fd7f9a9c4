import type { LoggerService } from '@backstage/backend-plugin-api';
import type { SignalsService } from '@backstage/plugin-signals-node';
import {
  type ChaosRunSignal,
  type Run,
  entityRunsSignalChannel,
  isTerminalPhase,
  runSignalChannel,
} from '@chaoscraft/backstage-plugin-chaos-common';
import type { RunEndNotifier } from './RunEndNotifier';

/**
 * Everything that follows a change of a run's record: a signal on the run's channel and on its
 * entity's (the run page and the run history refetch on it), and at the end, the notification.
 * Never throws: a run's record is what matters, announcing it is best effort.
 */
export class RunChangeFeed {
  constructor(
    private readonly deps: {
      signals?: SignalsService;
      notifier?: RunEndNotifier;
      logger: LoggerService;
    },
  ) {}

  async changed(run: Run): Promise<void> {
    const message: ChaosRunSignal = { runId: run.id };
    const { signals, notifier, logger } = this.deps;
    if (signals) {
      // Broadcast: the message names nothing but the run; readers fetch it with their own
      // credentials, so the API still decides who sees what.
      await Promise.all(
        [runSignalChannel(run.id), entityRunsSignalChannel(run.entityRef)].map(
          channel =>
            signals
              .publish({ recipients: { type: 'broadcast' }, channel, message })
              .catch(error =>
                logger.warn(`Could not publish signal ${channel}: ${error}`),
              ),
        ),
      );
    }
    if (notifier && isTerminalPhase(run.phase)) {
      await notifier
        .runEnded(run)
        .catch(error =>
          logger.warn(`Could not announce the end of run ${run.id}: ${error}`),
        );
    }
  }
}
