import { TestDatabases, mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import {
  sandboxKubeconfigPath,
  useSandboxNamespace,
  waitFor,
} from '@chaoscraft/test-sandbox';
import {
  OPT_IN,
  applyCrds,
  createDeployment,
  startController,
} from '@chaoscraft/agent-testkit';
import {
  isTerminalPhase,
  type RunDetail,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { ManualClock } from '../__testUtils__/manualClock';
import { ClusterRegistry } from '../cluster/ClusterRegistry';
import { DatabaseExperimentSourceStore } from '../database/DatabaseExperimentSourceStore';
import { DatabaseExperimentStore } from '../database/DatabaseExperimentStore';
import { DatabaseRunStore } from '../database/DatabaseRunStore';
import { launchExperimentRun } from '../runs/RunLauncher';
import { RunMirror } from '../runs/RunMirror';
import { ScheduledRuns, type ScheduleOutcome } from '../runs/ScheduledRuns';
import { readCeilings } from '../service/ceilingsConfig';
import { ClusterExperiments } from './ClusterExperiments';

/**
 * A ChaosExperiment applied with kubectl and carrying `schedule: "* * * * *"` starts exactly one
 * run a minute. Two backend instances (two ScheduledRuns on one PostgreSQL, as two replicas
 * would be) tick every 30 s of an injected clock while the cluster's ChaosExperiments are read
 * again each time; the runs are real, executed by the agent in the sandbox.
 */
jest.setTimeout(300_000);

const databases = TestDatabases.create({ ids: ['POSTGRES_15', 'SQLITE_3'] });
const sandbox = useSandboxNamespace({ labels: OPT_IN });
const agentHome = useSandboxNamespace();

async function kubectl(args: string[], input?: string): Promise<string> {
  const kubeconfig = await sandboxKubeconfigPath();
  const binary = path.join(path.dirname(kubeconfig), 'bin', 'kubectl');
  return new Promise((resolve, reject) => {
    const child = execFile(
      binary,
      ['--kubeconfig', kubeconfig, ...args],
      (error, stdout, stderr) =>
        error
          ? reject(
              new Error(
                `kubectl ${args.join(' ')}: ${stderr || error.message}`,
              ),
            )
          : resolve(stdout),
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}

let controller: { stop(): Promise<void> };

beforeAll(async () => {
  await applyCrds(sandbox.kc);
  await createDeployment(sandbox.kc, sandbox.namespace, 'checkout', 4);
  controller = await startController(sandbox.kc, {
    agentNamespace: agentHome.namespace,
    watchNamespaces: [sandbox.namespace],
  });
});

afterAll(async () => {
  await controller?.stop();
});

describe.each(databases.eachSupportedId())(
  'a scheduled ChaosExperiment on %s',
  databaseId => {
    afterEach(async () => {
      await kubectl([
        'delete',
        'chaosexperiments',
        '--all',
        '-n',
        sandbox.namespace,
      ]);
    });

    it('starts exactly one run a minute, whichever instance ticks', async () => {
      const knex = await databases.init(databaseId);
      const database = mockServices.database({
        knex,
        migrations: { skip: false },
      });
      const clock = new ManualClock('2031-03-04T05:06:10.000Z');
      const experiments = await DatabaseExperimentStore.create({
        database,
        clock,
      });
      const runs = await DatabaseRunStore.create({ database, clock });
      const sources = await DatabaseExperimentSourceStore.create({
        database,
        clock,
      });
      const logger = mockServices.logger.mock();
      const clusters = new ClusterRegistry([
        { name: 'sandbox', kubeconfigPath: await sandboxKubeconfigPath() },
      ]);
      const mirror = new RunMirror(clusters, runs, logger);
      const ceilings = readCeilings(new ConfigReader({}));
      const checkout = {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Component',
        metadata: {
          name: 'checkout',
          namespace: 'default',
          annotations: {
            'backstage.io/kubernetes-namespace': sandbox.namespace,
            'backstage.io/kubernetes-label-selector': 'app=checkout',
            'chaoscraft.io/cluster': 'sandbox',
          },
        },
        spec: { type: 'service', owner: 'team-checkout' },
      };
      const clusterExperiments = new ClusterExperiments({
        catalog: catalogServiceMock({ entities: [checkout] }),
        auth: mockServices.auth(),
        clusters,
        sources,
        ceilings,
        logger,
        clock,
      });
      const instance = () =>
        new ScheduledRuns({
          experiments,
          runs,
          logger,
          clock,
          launch: (experiment, createdBy) =>
            launchExperimentRun({
              experiment,
              entity: checkout,
              dryRun: false,
              createdBy,
              clusters,
              ceilings,
              runs,
              mirror,
              logger,
            }),
        });
      const [first, second] = [instance(), instance()];

      await kubectl(
        ['apply', '-f', '-'],
        JSON.stringify({
          apiVersion: 'chaoscraft.io/v1alpha1',
          kind: 'ChaosExperiment',
          metadata: { name: 'every-minute', namespace: sandbox.namespace },
          spec: {
            entityRef: 'component:default/checkout',
            schedule: '* * * * *',
            target: {
              namespace: sandbox.namespace,
              labelSelector: { app: 'checkout' },
            },
            faults: [{ type: 'pod-kill' }],
            duration: '1s',
            safety: {
              maxBlastRadiusPercent: 50,
              respectPodDisruptionBudgets: false,
            },
          },
        }),
      );
      await clusterExperiments.refreshAll();
      const [experiment] = (
        await experiments.list({
          entityRef: 'component:default/checkout',
          offset: 0,
          limit: 10,
        })
      ).items;
      expect(experiment).toMatchObject({
        name: 'every-minute',
        schedule: '* * * * *',
        managedBy: { kind: 'cluster' },
      });

      const started: ScheduleOutcome[] = [];
      const ticks: string[] = [];
      for (
        let at = Date.parse('2031-03-04T05:06:30.000Z');
        at <= Date.parse('2031-03-04T05:09:30.000Z');
        at += 30_000
      ) {
        clock.set(new Date(at));
        // The cluster is read again as often as the scheduler ticks: an unchanged schedule keeps its place.
        await clusterExperiments.refreshAll();
        const outcomes = (
          await Promise.all([first.tick(), second.tick()])
        ).flat();
        ticks.push(
          `${new Date(at).toISOString().slice(11, 19)}: ${
            outcomes.map(o => o.outcome).join(',') || '-'
          }`,
        );
        for (const outcome of outcomes.filter(o => o.outcome === 'started')) {
          started.push(outcome);
          // Runs never overlap: let this one end (in real time) before the next minute.
          await waitFor(
            async () => {
              await mirror.resync();
              const run = await runs.get(outcome.runId!);
              return run && isTerminalPhase(run.phase) ? run : undefined;
            },
            {
              timeoutMs: 90_000,
              intervalMs: 500,
              description: `scheduled run ${outcome.runId} to end`,
            },
          );
        }
      }

      expect(ticks).toEqual([
        '05:06:30: -',
        '05:07:00: started',
        '05:07:30: -',
        '05:08:00: started',
        '05:08:30: -',
        '05:09:00: started',
        '05:09:30: -',
      ]);
      expect(started.map(o => o.occurrence)).toEqual([
        '2031-03-04T05:07:00.000Z',
        '2031-03-04T05:08:00.000Z',
        '2031-03-04T05:09:00.000Z',
      ]);
      const recorded = (
        await runs.list({
          entityRef: 'component:default/checkout',
          offset: 0,
          limit: 20,
        })
      ).items;
      expect(recorded).toHaveLength(3);
      const details = (await Promise.all(
        recorded.map(r => runs.get(r.id)),
      )) as RunDetail[];
      expect(details.map(r => [r.experimentId, r.createdBy, r.phase])).toEqual(
        Array(3).fill([experiment.id, 'schedule (* * * * *)', 'Completed']),
      );
      await clusters.close();
    });
  },
);
