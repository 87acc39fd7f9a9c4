/**
 * The ChaosExperiment manifests in examples/experiments are what GitOps users copy: each must
 * pass the model and the API server's own validation (the CRD's schema and CEL rules), and the
 * pod-kill one must run. The agent does not act on a ChaosExperiment itself (the backend reads
 * them and starts their runs, see docs/ARCHITECTURE.md, "Ways in"), so "run" means what the
 * backend does with an experiment: build the ChaosRun it describes and let the controller
 * execute it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CustomObjectsApi, loadYaml } from '@kubernetes/client-node';
import {
  CHAOS_EXPERIMENT,
  CHAOS_GROUP,
  CHAOS_VERSION,
  chaosExperimentSpecSchema,
  type ChaosExperimentSpec,
  type ChaosRunSpecInput,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { useSandboxNamespace } from '@chaoscraft/test-sandbox';
import {
  applyCrds,
  createDeployment,
  createRun,
  OPT_IN,
  startController,
  waitForRunPhase,
} from '@chaoscraft/agent-testkit';

jest.setTimeout(120_000);

// The examples sit at the root of the repository, beside the agent.
// eslint-disable-next-line no-restricted-syntax
const EXAMPLES_DIR = path.resolve(__dirname, '../../../examples/experiments');

interface ExampleExperiment {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
  spec: ChaosExperimentSpec & { target: { namespace: string } };
}

const examples = readdirSync(EXAMPLES_DIR)
  .filter(file => file.endsWith('.yaml'))
  .sort()
  .map(file => ({
    file,
    experiment: loadYaml<ExampleExperiment>(
      readFileSync(path.join(EXAMPLES_DIR, file), 'utf8'),
    ),
  }));

/** The ChaosRun an experiment describes, as the backend builds it: the schedule stays behind. */
function runSpecOf(
  experiment: ExampleExperiment,
  namespace: string,
): ChaosRunSpecInput {
  const { schedule: _schedule, ...spec } = experiment.spec;
  return {
    ...spec,
    target: { ...spec.target, namespace },
    experiment: { name: experiment.metadata.name },
  };
}

describe('examples/experiments against the sandbox', () => {
  const target = useSandboxNamespace({ prefix: 'experiments', labels: OPT_IN });
  const agent = useSandboxNamespace({ prefix: 'agent' });

  beforeAll(async () => {
    await applyCrds(target.kc);
  });

  it('has the experiments the docs point to, one fault type each', () => {
    expect(examples.map(e => e.file)).toEqual([
      'bandwidth.yaml',
      'checkout-hourly-kill.yaml',
      'cpu-stress.yaml',
      'network-latency.yaml',
      'packet-loss.yaml',
      'pod-kill.yaml',
    ]);
    expect(
      examples.map(e => e.experiment.spec.faults.map(f => f.type)),
    ).toEqual([
      ['network-bandwidth'],
      ['pod-kill'],
      ['cpu-stress'],
      ['network-latency'],
      ['network-loss'],
      ['pod-kill'],
    ]);
  });

  it.each(examples)(
    '$file is a ChaosExperiment the model and the API server accept',
    async ({ experiment }) => {
      expect(experiment).toMatchObject({
        apiVersion: `${CHAOS_GROUP}/${CHAOS_VERSION}`,
        kind: CHAOS_EXPERIMENT.kind,
        metadata: { namespace: 'chaos-demo' },
      });
      expect(experiment.spec.target.namespace).toBe(
        experiment.metadata.namespace,
      );
      const parsed = chaosExperimentSpecSchema.safeParse(experiment.spec);
      expect(parsed.error?.issues ?? []).toEqual([]);
      // Server-side dry run in a test namespace: schema, CEL rules and defaults, nothing stored.
      const body = {
        ...experiment,
        metadata: { ...experiment.metadata, namespace: target.namespace },
        spec: {
          ...experiment.spec,
          target: { ...experiment.spec.target, namespace: target.namespace },
        },
      };
      const created = (await target.kc
        .makeApiClient(CustomObjectsApi)
        .createNamespacedCustomObject({
          group: CHAOS_GROUP,
          version: CHAOS_VERSION,
          plural: CHAOS_EXPERIMENT.plural,
          namespace: target.namespace,
          body,
          dryRun: 'All',
        })) as {
        metadata: { name: string };
        spec: { safety?: { respectPodDisruptionBudgets?: boolean } };
      };
      expect(created.metadata.name).toBe(experiment.metadata.name);
      expect(created.spec.safety?.respectPodDisruptionBudgets).toBe(true);
    },
  );

  it('the API server refuses a broken experiment, naming the field', async () => {
    const { experiment } = examples.find(e => e.file === 'cpu-stress.yaml')!;
    const broken = {
      ...experiment,
      metadata: { ...experiment.metadata, namespace: target.namespace },
      spec: {
        ...experiment.spec,
        faults: [{ type: 'cpu-stress', loadPercent: 150 }],
      },
    };
    await expect(
      target.kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
        group: CHAOS_GROUP,
        version: CHAOS_VERSION,
        plural: CHAOS_EXPERIMENT.plural,
        namespace: target.namespace,
        body: broken,
        dryRun: 'All',
      }),
    ).rejects.toThrow(/spec\.faults\[0\]\.loadPercent/);
  });

  it('runs the pod-kill experiment: one checkout pod killed, the hypothesis held, the run Completed', async () => {
    const running = await startController(target.kc, {
      agentNamespace: agent.namespace,
      watchNamespaces: [target.namespace],
    });
    try {
      await createDeployment(target.kc, target.namespace, 'checkout', 10);
      const { experiment } = examples.find(e => e.file === 'pod-kill.yaml')!;
      // As written, except where it runs and for how long (30 s there, 3 s here).
      await createRun(target.kc, target.namespace, 'pod-kill-experiment', {
        ...runSpecOf(experiment, target.namespace),
        duration: '3s',
      });
      const done = await waitForRunPhase(
        target.kc,
        target.namespace,
        'pod-kill-experiment',
        ['Completed', 'Failed', 'Aborted'],
      );
      expect(done.status).toMatchObject({
        phase: 'Completed',
        verdict: 'Passed',
        blastRadius: { selected: 1, eligible: 10, limit: 10 },
      });
      expect(done.status!.targets.map(t => [t.fault, t.phase])).toEqual([
        ['pod-kill', 'Injected'],
      ]);
      expect(done.status!.probes.map(p => [p.name, p.verdict])).toEqual([
        ['checkout-available', 'Passed'],
      ]);
      expect(done.spec.experiment).toEqual({ name: 'checkout-pod-kill' });
    } finally {
      await running.stop();
    }
  });
});
