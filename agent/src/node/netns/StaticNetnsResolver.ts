import { promises as fs } from 'node:fs';
import {
  NetnsNotFoundError,
  NetnsResolver,
  PodRef,
  ResolvedNetns,
  ResolvedProcess,
} from './NetnsResolver';

/** Where `ip netns add NAME` puts its bind mounts. */
export const IP_NETNS_DIR = '/var/run/netns';

/** A pod in the static map: its network namespace, and optionally its container's main pid. */
export type StaticPod = string | { netns?: string; pid?: number };

/**
 * Maps `namespace/name` of a pod to a network namespace (an `ip netns` name or an absolute path)
 * and, for stress faults, to a process. For tests and for nodes without a CRI runtime. The map is
 * either given, or read from a JSON file on every lookup so that a test can add pods while the
 * daemon runs.
 */
export class StaticNetnsResolver implements NetnsResolver {
  constructor(
    private readonly source: Record<string, StaticPod> | { file: string },
  ) {}

  private async lookup(pod: PodRef): Promise<{ netns?: string; pid?: number }> {
    const map =
      'file' in this.source && typeof this.source.file === 'string'
        ? (JSON.parse(await fs.readFile(this.source.file, 'utf8')) as Record<
            string,
            StaticPod
          >)
        : (this.source as Record<string, StaticPod>);
    const value = map[`${pod.namespace}/${pod.name}`];
    if (!value) {
      throw new NetnsNotFoundError(pod, 'not in the static netns map');
    }
    return typeof value === 'string' ? { netns: value } : value;
  }

  async resolveProcess(pod: PodRef): Promise<ResolvedProcess> {
    const { pid } = await this.lookup(pod);
    if (!pid) {
      throw new NetnsNotFoundError(pod, 'no pid for it in the static map');
    }
    return { pid, via: 'static map' };
  }

  async resolve(pod: PodRef): Promise<ResolvedNetns> {
    const value = (await this.lookup(pod)).netns;
    if (!value) {
      throw new NetnsNotFoundError(
        pod,
        'no network namespace for it in the static map',
      );
    }
    const path = value.startsWith('/') ? value : `${IP_NETNS_DIR}/${value}`;
    try {
      await fs.access(path);
    } catch {
      throw new NetnsNotFoundError(pod, `${path} does not exist`);
    }
    return { path, via: 'static map' };
  }
}
