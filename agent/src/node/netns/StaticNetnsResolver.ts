import { promises as fs } from 'node:fs';
import {
  NetnsNotFoundError,
  NetnsResolver,
  PodRef,
  ResolvedNetns,
} from './NetnsResolver';

/** Where `ip netns add NAME` puts its bind mounts. */
export const IP_NETNS_DIR = '/var/run/netns';

/**
 * Maps `namespace/name` of a pod to a network namespace: an `ip netns` name or an absolute path.
 * For tests and for nodes without a CRI runtime. The map is either given, or read from a JSON
 * file on every lookup so that a test can add pods while the daemon runs.
 */
export class StaticNetnsResolver implements NetnsResolver {
  constructor(
    private readonly source: Record<string, string> | { file: string },
  ) {}

  async resolve(pod: PodRef): Promise<ResolvedNetns> {
    const map =
      'file' in this.source && typeof this.source.file === 'string'
        ? (JSON.parse(await fs.readFile(this.source.file, 'utf8')) as Record<
            string,
            string
          >)
        : (this.source as Record<string, string>);
    const value = map[`${pod.namespace}/${pod.name}`];
    if (!value) {
      throw new NetnsNotFoundError(pod, 'not in the static netns map');
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
