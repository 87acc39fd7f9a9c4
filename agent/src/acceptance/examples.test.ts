/**
 * The ChaosRun manifests in examples/runs are what users copy: each must pass the model and the
 * API server's own validation, and the pod-kill example must actually run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CustomObjectsApi, loadYaml } from '@kubernetes/client-node';
import {
  CHAOS_GROUP,
  CHAOS_RUN,
  CHAOS_VERSION,
  chaosRunSpecSchema,
  ChaosRunSpecInput,
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
import { CHAOS_RUN_COORDINATES } from '@chaoscraft/backstage-plugin-chaos-node';

jest.setTimeout(120_000);

// The examples sit at the root of the repository, beside the agent.
// eslint-disable-next-line no-restricted-syntax
const EXAMPLES_DIR = path.resolve(__dirname, '../../../examples/runs');

interface ExampleRun {
  apiVersion: string;
  kind: string;
  metadata: { generateName?: string; namespace?: string };
  spec: ChaosRunSpecInput & { target: { namespace: string } };
}

const examples = readdirSync(EXAMPLES_DIR)
  .filter(file => file.endsWith('.yaml'))
  .map(file => ({
    file,
    run: loadYaml<ExampleRun>(
      readFileSync(path.join(EXAMPLES_DIR, file), 'utf8'),
    ),
  }));

/** The example moved into a test namespace (the examples target the demo's `chaos-demo`). */
function inNamespace(run: ExampleRun, namespace: string): ExampleRun {
  return {
    ...run,
    metadata: { ...run.metadata, namespace },
    spec: { ...run.spec, target: { ...run.spec.target, namespace } },
  };
}

describe('examples/runs against the sandbox', () => {
  const target = useSandboxNamespace({ prefix: 'examples', labels: OPT_IN });
  const agent = useSandboxNamespace({ prefix: 'agent' });

  beforeAll(async () => {
    await applyCrds(target.kc);
  });

  it('has the examples the docs point to', () => {
    expect(examples.map(e => e.file)).toEqual(
      expect.arrayContaining([
        'pod-kill.yaml',
        'dry-run.yaml',
        'pod-kill-progressive.yaml',
        'network-latency.yaml',
        'network-loss.yaml',
      ]),
    );
  });

  it.each(examples)(
    '$file is a ChaosRun the model and the API server accept',
    async ({ run }) => {
      expect(run).toMatchObject({
        apiVersion: `${CHAOS_GROUP}/${CHAOS_VERSION}`,
        kind: CHAOS_RUN.kind,
        metadata: { namespace: 'chaos-demo' },
      });
      expect(run.spec.target.namespace).toBe(run.metadata.namespace);
      const parsed = chaosRunSpecSchema.safeParse(run.spec);
      expect(parsed.error?.issues ?? []).toEqual([]);
      // Server-side dry run: schema, CEL rules and defaults, nothing stored.
      const created = (await target.kc
        .makeApiClient(CustomObjectsApi)
        .createNamespacedCustomObject({
          ...CHAOS_RUN_COORDINATES,
          namespace: target.namespace,
          body: inNamespace(run, target.namespace),
          dryRun: 'All',
        })) as { metadata: { name: string } };
      expect(created.metadata.name.startsWith(run.metadata.generateName!)).toBe(
        true,
      );
    },
  );

  it('runs the pod-kill example: one checkout pod killed, the run Completed', async () => {
    const running = await startController(target.kc, {
      agentNamespace: agent.namespace,
      watchNamespaces: [target.namespace],
    });
    try {
      await createDeployment(target.kc, target.namespace, 'checkout', 10);
      const { run } = examples.find(e => e.file === 'pod-kill.yaml')!;
      // As written, except where it runs and for how long (30 s there, 2 s here).
      const spec = {
        ...inNamespace(run, target.namespace).spec,
        duration: '2s',
      };
      await createRun(target.kc, target.namespace, 'pod-kill-example', spec);
      const done = await waitForRunPhase(
        target.kc,
        target.namespace,
        'pod-kill-example',
        ['Completed', 'Failed', 'Aborted'],
      );
      expect(done.status).toMatchObject({
        phase: 'Completed',
        blastRadius: { selected: 1, eligible: 10 },
      });
      expect(done.status!.targets.map(t => [t.fault, t.phase])).toEqual([
        ['pod-kill', 'Injected'],
      ]);
    } finally {
      await running.stop();
    }
  });
});
