import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  loadAllYaml,
  V1CustomResourceDefinition,
  V1Pod,
  Watch,
} from '@kubernetes/client-node';
import {
  CHAOS_API_VERSION,
  CHAOS_RUN,
  ChaosRunSpecInput,
  ChaosRunStatus,
  DEFAULT_CEILINGS,
  RunPhase,
  type ChaosCeilings,
} from '@chaoscraft/backstage-plugin-chaos-common';
import {
  ChaosRunClient,
  chaosRunsPath,
  type ChaosRunResource,
} from '@chaoscraft/backstage-plugin-chaos-node';
// Test support only (acceptance suites and benchmarks), hence a devDependency.
// eslint-disable-next-line @backstage/no-undeclared-imports
import {
  apiErrorCode,
  waitFor,
  waitForReadyPods,
} from '@chaoscraft/test-sandbox';
import pino from 'pino';
import {
  ChaosController,
  defaultControllerConfig,
  readLedgerFile,
  runNodeDaemon,
  type ControllerConfig,
  type RunningNodeDaemon,
} from '@chaoscraft/agent';

// Tests and benchmarks run from the source tree, where the chart sits beside the agent.
const REPO_ROOT = path.resolve(__dirname, '../../../..'); // eslint-disable-line no-restricted-syntax
export const CRD_DIR = path.join(REPO_ROOT, 'charts/chaoscraft-agent/crds');
export const OPT_IN = { 'chaoscraft.io/chaos-enabled': 'true' };

/**
 * Ceilings for suites that disrupt every pod of a small test workload or probe several times a
 * second to stay quick: the operator's defaults (50% blast radius, probes at most once a second)
 * would refuse them. Suites opt in explicitly; the harness itself keeps the safe defaults.
 */
export const TEST_CEILINGS: ChaosCeilings = {
  ...DEFAULT_CEILINGS,
  maxBlastRadiusPercent: 100,
  minProbeIntervalMs: 100,
};

/** Applies the generated CRDs (create, or replace when present) and waits until established. */
export async function applyCrds(kc: KubeConfig): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  for (const file of readdirSync(CRD_DIR).filter(f => f.endsWith('.yaml'))) {
    for (const crd of loadAllYaml(
      readFileSync(path.join(CRD_DIR, file), 'utf8'),
    ) as V1CustomResourceDefinition[]) {
      const name = crd.metadata!.name!;
      try {
        await api.createCustomResourceDefinition({ body: crd });
      } catch (error) {
        if (apiErrorCode(error) !== 409) throw error;
        const existing = await api.readCustomResourceDefinition({ name });
        await api.replaceCustomResourceDefinition({
          name,
          body: {
            ...crd,
            metadata: {
              ...crd.metadata,
              resourceVersion: existing.metadata!.resourceVersion,
            },
          },
        });
      }
      await waitFor(
        async () =>
          (
            await api.readCustomResourceDefinition({ name })
          ).status?.conditions?.some(
            c => c.type === 'Established' && c.status === 'True',
          ),
        { timeoutMs: 30_000, description: `CRD ${name} established` },
      );
    }
  }
}

export interface RunningController {
  controller: ChaosController;
  stop(): Promise<void>;
}

/** An in-process controller that only sees the given namespaces (other suites share the sandbox). */
export async function startController(
  kc: KubeConfig,
  overrides: Partial<ControllerConfig> & {
    agentNamespace: string;
    watchNamespaces: string[];
  },
): Promise<RunningController> {
  const config: ControllerConfig = {
    ...defaultControllerConfig(),
    metricsHost: '127.0.0.1',
    metricsPort: 0,
    leaseName: `agent-${Math.random().toString(36).slice(2, 8)}`,
    leaseDurationMs: 4_000,
    renewDeadlineMs: 3_000,
    retryPeriodMs: 500,
    heartbeatIntervalMs: 1_000,
    rollbackTimeoutMs: 10_000,
    ...overrides,
  };
  const controller = new ChaosController(config, {
    kubeConfig: kc,
    log: pino({ level: process.env.AGENT_TEST_LOG ?? 'silent' }),
  });
  await controller.start();
  await waitFor(() => controller.isLeader && controller.hasSynced(), {
    timeoutMs: 20_000,
    description: 'controller leading and synced',
  });
  return { controller, stop: () => controller.stop() };
}

/**
 * A Deployment on the kwok nodes, waited on until its pods are Ready. `minReadySeconds` keeps
 * replacements unavailable for that long, so a pod-kill shows as a dip to availability probes.
 */
export async function createDeployment(
  kc: KubeConfig,
  namespace: string,
  name: string,
  replicas: number,
  options: { minReadySeconds?: number } = {},
): Promise<V1Pod[]> {
  const { minReadySeconds } = options;
  await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name },
      spec: {
        replicas,
        ...(minReadySeconds
          ? { minReadySeconds, progressDeadlineSeconds: minReadySeconds + 600 }
          : {}),
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            containers: [{ name: 'app', image: 'chaoscraft-demo/app:1' }],
          },
        },
      },
    },
  });
  return waitForReadyPods(
    kc.makeApiClient(CoreV1Api),
    namespace,
    `app=${name}`,
    replicas,
    { timeoutMs: 60_000 },
  );
}

/** A ChaosRun as tests read it: the spec they wrote, the status the agent wrote. */
export type ChaosRunObject = ChaosRunResource & {
  metadata: { name: string; namespace: string };
  spec: ChaosRunSpecInput;
  status?: ChaosRunStatus;
};

export async function createRun(
  kc: KubeConfig,
  namespace: string,
  name: string,
  spec: ChaosRunSpecInput,
): Promise<ChaosRunObject> {
  return (await new ChaosRunClient(kc).create({
    apiVersion: CHAOS_API_VERSION,
    kind: CHAOS_RUN.kind,
    metadata: { name, namespace },
    spec,
  })) as ChaosRunObject;
}

export async function getRun(
  kc: KubeConfig,
  namespace: string,
  name: string,
): Promise<ChaosRunObject> {
  return (await new ChaosRunClient(kc).get(namespace, name)) as ChaosRunObject;
}

export async function waitForRunPhase(
  kc: KubeConfig,
  namespace: string,
  name: string,
  phases: RunPhase[],
  timeoutMs = 60_000,
): Promise<ChaosRunObject> {
  return waitFor(
    async () => {
      const run = await getRun(kc, namespace, name);
      return run.status?.phase && phases.includes(run.status.phase)
        ? run
        : undefined;
    },
    {
      timeoutMs,
      intervalMs: 100,
      description: `run ${name} in phase ${phases.join('|')}`,
    },
  );
}

/** Every pod deletion in a namespace, as a watch sees it: DELETED, or a deletionTimestamp set. */
export interface DeletionWatch {
  deleted: Set<string>;
  stop(): void;
}

export async function watchPodDeletions(
  kc: KubeConfig,
  namespace: string,
): Promise<DeletionWatch> {
  const deleted = new Set<string>();
  const controller = await new Watch(kc).watch(
    `/api/v1/namespaces/${namespace}/pods`,
    {},
    (type: string, pod: V1Pod) => {
      if (type === 'DELETED' || pod.metadata?.deletionTimestamp)
        deleted.add(pod.metadata!.name!);
    },
    () => undefined,
  );
  return { deleted, stop: () => controller.abort() };
}

export function targetPods(run: ChaosRunObject): string[] {
  return (run.status?.targets ?? []).map(t => t.pod).sort();
}

/**
 * Bare pods bound to one node by name (no scheduler, no ReplicaSet), waited on until Ready:
 * fixed names a test can map to network namespaces for a node daemon of that node.
 */
export async function createPodsOnNode(
  kc: KubeConfig,
  namespace: string,
  names: readonly string[],
  labels: Record<string, string>,
  nodeName: string,
): Promise<V1Pod[]> {
  const core = kc.makeApiClient(CoreV1Api);
  for (const name of names) {
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name, labels },
        spec: {
          nodeName,
          containers: [{ name: 'app', image: 'chaoscraft-demo/app:1' }],
        },
      },
    });
  }
  const selector = Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
  return waitForReadyPods(core, namespace, selector, names.length, {
    timeoutMs: 60_000,
  });
}

/** The status of a run after every change, as a watch delivers them (none is coalesced). */
export interface RunStatusRecorder {
  seen: ChaosRunStatus[];
  stop(): void;
}

export async function recordRunStatuses(
  kc: KubeConfig,
  namespace: string,
  name: string,
): Promise<RunStatusRecorder> {
  const seen: ChaosRunStatus[] = [];
  const controller = await new Watch(kc).watch(
    chaosRunsPath(namespace),
    { fieldSelector: `metadata.name=${name}` },
    (_type: string, run: ChaosRunObject) => {
      if (run.status) seen.push(run.status);
    },
    () => undefined,
  );
  return { seen, stop: () => controller.abort() };
}

/**
 * The node daemon in this process, as `chaoscraft-agent node` runs it, with the static netns
 * resolver: `mapPod` says which network namespace stands for a pod (the map file is read on every
 * lookup, so pods can be mapped while it runs).
 */
export interface InProcessNodeDaemon {
  readonly nodeName: string;
  readonly ledgerPath: string;
  mapPod(namespace: string, pod: string, netnsPath: string): void;
  /** Ledger entries still held: faults applied and not yet reverted. */
  held(): Promise<number>;
  stop(): Promise<void>;
}

export async function startNodeDaemon(options: {
  kubeconfigPath: string;
  nodeName: string;
  /** The agent's namespace, where the daemon's Lease tells preflight it is there. */
  agentNamespace: string;
  /** A private directory for the ledger and the netns map. */
  dir: string;
  heartbeatTimeoutMs?: number;
}): Promise<InProcessNodeDaemon> {
  const ledgerPath = path.join(options.dir, 'ledger.jsonl');
  const mapPath = path.join(options.dir, 'netns-map.json');
  const map: Record<string, string> = {};
  writeFileSync(mapPath, '{}');
  const running: RunningNodeDaemon = await runNodeDaemon({
    nodeName: options.nodeName,
    namespace: options.agentNamespace,
    kubeconfig: options.kubeconfigPath,
    ledger: ledgerPath,
    heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 15_000,
    checkIntervalMs: 500,
    netnsResolver: 'static',
    netnsMap: mapPath,
    logger: pino({ level: process.env.AGENT_TEST_LOG ?? 'silent' }),
  });
  return {
    nodeName: options.nodeName,
    ledgerPath,
    mapPod(namespace, pod, netnsPath) {
      map[`${namespace}/${pod}`] = netnsPath;
      writeFileSync(mapPath, JSON.stringify(map));
    },
    held: async () => (await readLedgerFile(ledgerPath)).held.length,
    stop: () => running.stop({ revert: true }),
  };
}
