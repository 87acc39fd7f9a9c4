import {
  TestDatabases,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { applyCrds, OPT_IN } from '@chaoscraft/agent-testkit';
import { useSandboxNamespace, waitFor } from '@chaoscraft/test-sandbox';
import { chaosPlugin } from '../plugin';
import { chaosComponent } from '../__testUtils__/entities';
import { RUN_MIRROR_TASK_ID } from './RunMirror';
import { sandboxChaosConfig } from '../__testUtils__/sandboxConfig';

/**
 * Backstage's real scheduler aborts its tasks only at the root shutdown, after every plugin's
 * shutdown hooks. The run mirror's window (a scheduler task watching ChaosRuns) must end in the
 * chaos plugin's own hook, or the hook's close of the cluster connections waits for the open
 * watch: a backend stop took ~45 s that way.
 */
jest.setTimeout(120_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });
const sandbox = useSandboxNamespace({ labels: OPT_IN });

it('stops within seconds while the run mirror watches the cluster', async () => {
  await applyCrds(sandbox.kc);
  const knex = await databases.init('SQLITE_3');
  const backend = await startTestBackend({
    features: [
      chaosPlugin,
      schedulerServiceFactory,
      mockServices.database.factory({ knex }),
      mockServices.permissions.factory({ result: AuthorizeResult.ALLOW }),
      mockServices.rootConfig.factory({
        data: await sandboxChaosConfig(),
      }),
      catalogServiceMock.factory({
        entities: [chaosComponent({ namespace: sandbox.namespace })],
      }),
    ],
  });
  // The scheduler holds a ticket on the global task while its window runs; the window's first
  // resync lists the runs, then it opens its watch.
  await waitFor(
    async () =>
      (await knex('backstage_backend_tasks__tasks')
        .where({ id: RUN_MIRROR_TASK_ID })
        .whereNotNull('current_run_ticket')
        .first()) ?? undefined,
    { timeoutMs: 60_000, description: 'the run mirror task to run' },
  );
  await new Promise(resolve => setTimeout(resolve, 2_000));

  const started = performance.now();
  await backend.stop();
  expect(performance.now() - started).toBeLessThan(10_000);
});
