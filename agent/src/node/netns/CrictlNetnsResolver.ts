import { promises as fs } from 'node:fs';
import { CommandResult, runCommand } from '../../faults/network/exec';
import {
  NetnsNotFoundError,
  NetnsResolver,
  PodRef,
  ResolvedNetns,
  ResolvedProcess,
} from './NetnsResolver';

export interface CrictlOptions {
  /** crictl binary. Default `crictl`. */
  crictl?: string;
  /** CRI socket. Default containerd's. */
  runtimeEndpoint?: string;
  /** Where the node's /proc is visible (hostPID: /proc). */
  procRoot?: string;
  /** Runs crictl; replaced in unit tests. */
  run?: (file: string, args: string[]) => Promise<CommandResult>;
}

export const DEFAULT_RUNTIME_ENDPOINT =
  'unix:///run/containerd/containerd.sock';

interface CrictlPods {
  items?: Array<{
    id: string;
    state?: string;
    metadata?: { name?: string; namespace?: string; uid?: string };
  }>;
}
interface CrictlContainers {
  containers?: Array<{
    id: string;
    state?: string;
    metadata?: { name?: string };
  }>;
}
interface CrictlInspect {
  info?: {
    pid?: number;
    runtimeSpec?: {
      linux?: { namespaces?: Array<{ type?: string; path?: string }> };
    };
  };
}

/** crictl commands whose arguments are IDs, after which no flag is read. */
const POSITIONAL = new Set(['inspect', 'inspectp']);

/**
 * Finds a pod's network namespace through the container runtime with crictl, the CRI's own
 * command-line client: pod sandbox by namespace, name (and uid) → a running container → its PID
 * → /proc/PID/ns/net; falling back to the sandbox (pause) process, then to the netns path in the
 * sandbox's runtime spec.
 *
 * Why crictl and not CRI gRPC from TypeScript: speaking CRI means vendoring the runtime.v1
 * protobufs plus a gRPC stack into the agent and tracking their drift; crictl is a single static
 * binary that speaks exactly the CRI of the node's runtime (containerd, CRI-O: only the socket
 * differs) and prints stable JSON. Its cost, one process per lookup, is paid once per target.
 */
export class CrictlNetnsResolver implements NetnsResolver {
  private readonly crictl: string;
  private readonly endpoint: string;
  private readonly procRoot: string;
  private readonly run: (
    file: string,
    args: string[],
  ) => Promise<CommandResult>;

  constructor(options: CrictlOptions = {}) {
    this.crictl = options.crictl ?? 'crictl';
    this.endpoint = options.runtimeEndpoint ?? DEFAULT_RUNTIME_ENDPOINT;
    this.procRoot = options.procRoot ?? '/proc';
    this.run = options.run ?? ((file, args) => runCommand(file, args));
  }

  async resolve(pod: PodRef): Promise<ResolvedNetns> {
    const sandbox = await this.sandboxOf(pod);
    const sandboxInspect = await this.crictlJson<CrictlInspect>(pod, [
      'inspectp',
      sandbox.id,
    ]);
    // A hostNetwork pod's sandbox spec has no network namespace of its own. (Comparing inodes
    // with /proc/1/ns/net needs more than a pod's privileges: reading it is refused there.)
    const namespaces = sandboxInspect.info?.runtimeSpec?.linux?.namespaces;
    const hostNetwork =
      namespaces !== undefined && !namespaces.some(ns => ns.type === 'network');
    const tried: string[] = [];
    const container = await this.runningContainer(pod, sandbox.id);
    if (container) {
      const found = await this.procNetns(container.pid);
      if (found) {
        return {
          path: found,
          via: `container ${container.name} pid`,
          hostNetwork,
        };
      }
      tried.push(`container ${container.name} has no live pid`);
    } else {
      tried.push('no running container');
    }

    const fromPause = await this.procNetns(sandboxInspect.info?.pid);
    if (fromPause) {
      return { path: fromPause, via: 'pod sandbox pid', hostNetwork };
    }
    tried.push('sandbox has no live pid');
    const specPath = sandboxInspect.info?.runtimeSpec?.linux?.namespaces?.find(
      ns => ns.type === 'network',
    )?.path;
    if (specPath && (await exists(specPath))) {
      return { path: specPath, via: 'pod sandbox runtime spec' };
    }
    tried.push(
      specPath
        ? `${specPath} is not visible`
        : 'no netns path in the sandbox spec',
    );
    throw new NetnsNotFoundError(pod, tried.join('; '));
  }

  async resolveProcess(pod: PodRef): Promise<ResolvedProcess> {
    const sandbox = await this.sandboxOf(pod);
    const container = await this.runningContainer(pod, sandbox.id);
    if (
      !container?.pid ||
      !(await exists(`${this.procRoot}/${container.pid}`))
    ) {
      throw new NetnsNotFoundError(
        pod,
        container
          ? `container ${container.name} has no live pid`
          : 'no running container',
      );
    }
    return { pid: container.pid, via: `container ${container.name} pid` };
  }

  /** The pod's ready sandbox on this node: exactly this pod (and incarnation, by uid). */
  private async sandboxOf(pod: PodRef): Promise<{ id: string }> {
    const pods = await this.crictlJson<CrictlPods>(pod, [
      'pods',
      '--namespace',
      pod.namespace,
      '--name',
      pod.name,
      '--state',
      'ready',
    ]);
    // --name is a regular expression; keep only the exact pod (and incarnation, by uid).
    const sandbox = (pods.items ?? []).find(
      item =>
        item.metadata?.name === pod.name &&
        item.metadata?.namespace === pod.namespace &&
        (!pod.uid || item.metadata?.uid === pod.uid),
    );
    if (!sandbox) {
      throw new NetnsNotFoundError(pod, 'no ready pod sandbox on this node');
    }
    return sandbox;
  }

  /** The target container (the run's `target.container`, else the first running), with its pid. */
  private async runningContainer(
    pod: PodRef,
    sandboxId: string,
  ): Promise<{ id: string; name: string; pid?: number } | undefined> {
    const containers = await this.crictlJson<CrictlContainers>(pod, [
      'ps',
      '--pod',
      sandboxId,
      '--state',
      'running',
    ]);
    const running = containers.containers ?? [];
    const container =
      running.find(c => pod.container && c.metadata?.name === pod.container) ??
      running[0];
    if (!container) {
      return undefined;
    }
    const inspect = await this.crictlJson<CrictlInspect>(pod, [
      'inspect',
      container.id,
    ]);
    return {
      id: container.id,
      name: container.metadata?.name ?? container.id,
      pid: inspect.info?.pid,
    };
  }

  private async procNetns(
    pid: number | undefined,
  ): Promise<string | undefined> {
    if (!pid || pid <= 0) {
      return undefined;
    }
    const path = `${this.procRoot}/${pid}/ns/net`;
    return (await exists(path)) ? path : undefined;
  }

  private async crictlJson<T>(pod: PodRef, args: string[]): Promise<T> {
    // crictl stops reading flags at a command's first positional argument: `inspect ID -o json`
    // asks for containers "ID", "-o" and "json". inspect and inspectp print JSON by default and
    // take only the ID; the listing commands take flags only, so `-o json` goes last.
    const output = POSITIONAL.has(args[0]) ? [] : ['-o', 'json'];
    const argv = ['--runtime-endpoint', this.endpoint, ...args, ...output];
    const result = await this.run(this.crictl, argv);
    if (result.code !== 0) {
      throw new NetnsNotFoundError(
        pod,
        `crictl ${args[0]} failed: ${crictlError(
          result.stderr || result.stdout,
        )}`,
      );
    }
    try {
      return JSON.parse(result.stdout) as T;
    } catch {
      throw new NetnsNotFoundError(pod, `crictl ${args[0]} printed no JSON`);
    }
  }
}

/**
 * The line of crictl's stderr that says what failed: the last one that is not a warning (crictl
 * warns first about a missing /etc/crictl.yaml, which says nothing about the failure).
 */
function crictlError(stderr: string): string {
  const lines = stderr
    .trim()
    .split('\n')
    .filter(line => line && !line.includes('level=warning'));
  return lines[lines.length - 1] ?? stderr.trim().split('\n')[0];
}

async function exists(path: string): Promise<boolean> {
  try {
    await fs.access(path);
    return true;
  } catch {
    return false;
  }
}
