import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { chaosPermissions } from '@chaoscraft/backstage-plugin-chaos-common';
import { ScmIntegrations } from '@backstage/integration';
import { actionsRegistryServiceRef } from '@backstage/backend-plugin-api/alpha';
import { registerChaosActions } from './actions/chaosActions';
import { RunOperations } from './service/RunOperations';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { notificationService } from '@backstage/plugin-notifications-node';
import { signalsServiceRef } from '@backstage/plugin-signals-node';
import { ClusterRegistry } from './cluster/ClusterRegistry';
import { DatabaseExperimentStore } from './database/DatabaseExperimentStore';
import { DatabaseRunStore } from './database/DatabaseRunStore';
import { launchExperimentRun } from './runs/RunLauncher';
import { NotFoundError } from '@backstage/errors';
import {
  RUN_MIRROR_TASK_ID,
  MIRROR_WINDOW_MS,
  RunMirror,
} from './runs/RunMirror';
import { readCeilings } from './service/ceilingsConfig';
import { EntityAccess } from './service/EntityAccess';
import { SCHEDULED_RUNS_TASK_ID, ScheduledRuns } from './runs/ScheduledRuns';
import { createRouter } from './service/router';
import { DatabaseExperimentSourceStore } from './database/DatabaseExperimentSourceStore';
import { scheduleExperimentsAsCode } from './experimentsAsCode/schedule';
import { ObservedRunStore } from './events/ObservedRunStore';
import { RunChangeFeed } from './events/RunChangeFeed';
import { RunEndNotifier } from './events/RunEndNotifier';
import { DatabaseScoreStore } from './score/ScoreStore';

/**
 * The ChaosCraft backend plugin: experiments and runs of chaos experiments on catalog
 * entities.
 *
 * @public
 */
export const chaosPlugin = createBackendPlugin({
  pluginId: 'chaos',
  register(env) {
    env.registerInit({
      deps: {
        database: coreServices.database,
        httpAuth: coreServices.httpAuth,
        httpRouter: coreServices.httpRouter,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        auditor: coreServices.auditor,
        logger: coreServices.logger,
        config: coreServices.rootConfig,
        lifecycle: coreServices.lifecycle,
        scheduler: coreServices.scheduler,
        auth: coreServices.auth,
        urlReader: coreServices.urlReader,
        actionsRegistry: actionsRegistryServiceRef,
        catalog: catalogServiceRef,
        signals: signalsServiceRef,
        notifications: notificationService,
      },
      async init(deps) {
        const {
          database,
          httpAuth,
          httpRouter,
          permissions,
          permissionsRegistry,
          auditor,
          logger,
        } = deps;
        permissionsRegistry.addPermissions(chaosPermissions);
        const experiments = await DatabaseExperimentStore.create({ database });
        const sources = await DatabaseExperimentSourceStore.create({
          database,
        });
        const runStore = await DatabaseRunStore.create({ database });
        // Every change of a run is signalled (run page and history refetch on it); its end is
        // announced to the entity's owners and the starter, unless chaos.notifications.enabled
        // is false (an app without the notifications backend).
        const notifier =
          deps.config.getOptionalBoolean('chaos.notifications.enabled') ===
          false
            ? undefined
            : new RunEndNotifier({
                notifications: deps.notifications,
                catalog: deps.catalog,
                auth: deps.auth,
                runs: runStore,
                logger,
              });
        const runs = new ObservedRunStore(
          runStore,
          new RunChangeFeed({ signals: deps.signals, notifier, logger }),
        );
        const scores = await DatabaseScoreStore.create({ database });
        const clusters = ClusterRegistry.fromConfig(deps.config);
        const ceilings = readCeilings(deps.config);
        const permissionsEnabled =
          deps.config.getOptionalBoolean('permission.enabled') ?? false;
        if (!permissionsEnabled) {
          logger.warn(
            "permission.enabled is false: chaos writes are limited to the owners of each entity by the catalog's ownedBy relations",
          );
        }
        const access = new EntityAccess({
          catalog: deps.catalog,
          permissions,
          permissionsEnabled,
        });
        const mirror = new RunMirror(clusters, runs, logger);
        // The scheduler aborts its tasks only at the root shutdown, after this plugin's hooks:
        // the mirror's window (and its watches) ends here first, so closing the clusters'
        // connections has nothing left to wait for.
        const stopping = new AbortController();
        deps.lifecycle.addShutdownHook(async () => {
          stopping.abort();
          await clusters.close();
        });
        // One instance mirrors at a time: the scheduler's lock on this global task decides which.
        await deps.scheduler.scheduleTask({
          id: RUN_MIRROR_TASK_ID,
          scope: 'global',
          frequency: { seconds: 1 },
          timeout: { milliseconds: MIRROR_WINDOW_MS + 60_000 },
          initialDelay: { seconds: 1 },
          fn: async signal => {
            if (stopping.signal.aborted) return;
            await mirror.runWindow(
              signal
                ? AbortSignal.any([signal, stopping.signal])
                : stopping.signal,
            );
          },
        });

        // Scheduled experiments run as the plugin itself: an owner was authorized to set the
        // schedule, and each start is audited like one from the Run button.
        const scheduledRuns = new ScheduledRuns({
          experiments,
          runs,
          logger,
          launch: async (experiment, createdBy) => {
            const event = await auditor.createEvent({
              eventId: 'run-create',
              severityLevel: 'medium',
              meta: {
                experimentId: experiment.id,
                dryRun: false,
                trigger: 'schedule',
                schedule: experiment.schedule,
              },
            });
            try {
              const credentials = await deps.auth.getOwnServiceCredentials();
              const entity = await deps.catalog.getEntityByRef(
                experiment.entityRef,
                { credentials },
              );
              if (!entity)
                throw new NotFoundError(
                  `Entity ${experiment.entityRef} is not in the catalog`,
                );
              const run = await launchExperimentRun({
                experiment,
                entity,
                dryRun: false,
                createdBy,
                credentials,
                clusters,
                ceilings,
                runs,
                mirror,
                logger,
              });
              await event.success({ meta: { runId: run.id } });
              return run;
            } catch (error) {
              await event.fail({ error: error as Error });
              throw error;
            }
          },
        });
        await deps.scheduler.scheduleTask({
          id: SCHEDULED_RUNS_TASK_ID,
          scope: 'global',
          frequency: { seconds: 30 },
          timeout: { minutes: 2 },
          initialDelay: { seconds: 10 },
          fn: async () => {
            await scheduledRuns.tick();
          },
        });
        // Experiments kept as code: files at experiments-locations, ChaosExperiments in clusters.
        await scheduleExperimentsAsCode({
          config: deps.config,
          scheduler: deps.scheduler,
          catalog: deps.catalog,
          auth: deps.auth,
          reader: deps.urlReader,
          integrations: ScmIntegrations.fromConfig(deps.config),
          sources,
          clusters,
          ceilings,
          logger,
        });
        // Actions for AI agents (MCP through @backstage/plugin-mcp-actions-backend).
        registerChaosActions({
          actionsRegistry: deps.actionsRegistry,
          auth: deps.auth,
          auditor,
          experiments,
          sources,
          runs,
          access,
          runOperations: new RunOperations({
            experiments,
            runs,
            clusters,
            mirror,
            access,
            ceilings,
            logger,
          }),
        });
        httpRouter.use(
          await createRouter({
            experiments,
            sources,
            runs,
            clusters,
            mirror,
            access,
            ceilings,
            httpAuth,
            auditor,
            logger,
            scores,
          }),
        );
      },
    });
  },
});
