import type { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import { KeepAliveKubeConfig } from '@chaoscraft/backstage-plugin-chaos-node';

/** One cluster the chaos plugin may run in, as configured. */
export type ChaosCluster = {
  name: string;
  url?: string;
  serviceAccountToken?: string;
  caData?: string;
  skipTLSVerify?: boolean;
  kubeconfigPath?: string;
};

function readCluster(c: Config): ChaosCluster {
  return {
    name: c.getString('name'),
    url: c.getOptionalString('url'),
    serviceAccountToken: c.getOptionalString('serviceAccountToken'),
    caData: c.getOptionalString('caData'),
    skipTLSVerify: c.getOptionalBoolean('skipTLSVerify'),
    kubeconfigPath: c.getOptionalString('kubeconfigPath'),
  };
}

/**
 * The clusters of `chaos.clusters`, or else those that users already configured for
 * Backstage's Kubernetes plugin (`kubernetes.clusterLocatorMethods` entries of type `config`).
 */
export class ClusterRegistry {
  static fromConfig(config: Config): ClusterRegistry {
    const own = config.getOptionalConfigArray('chaos.clusters');
    if (own) return new ClusterRegistry(own.map(readCluster));
    const methods =
      config.getOptionalConfigArray('kubernetes.clusterLocatorMethods') ?? [];
    const clusters = methods
      .filter(m => m.getString('type') === 'config')
      .flatMap(m => m.getOptionalConfigArray('clusters') ?? [])
      .map(readCluster);
    return new ClusterRegistry(clusters);
  }

  private readonly kubeConfigs = new Map<string, KeepAliveKubeConfig>();

  constructor(readonly clusters: ChaosCluster[]) {}

  /** The cluster an entity names, or the first one. Throws InputError naming what is wrong. */
  resolve(name: string | undefined): ChaosCluster {
    if (this.clusters.length === 0) {
      throw new InputError(
        'No cluster is configured for chaos: add chaos.clusters, or a config entry under kubernetes.clusterLocatorMethods',
      );
    }
    if (!name) return this.clusters[0];
    const cluster = this.clusters.find(c => c.name === name);
    if (!cluster) {
      throw new InputError(
        `chaoscraft.io/cluster names '${name}', which is not configured (known: ${this.clusters
          .map(c => c.name)
          .join(', ')})`,
      );
    }
    return cluster;
  }

  /**
   * The cluster's KubeConfig, made once: every API client made from it shares its connections,
   * so creating, reading and aborting runs do not each pay a TCP and TLS handshake.
   */
  kubeConfig(cluster: ChaosCluster): KeepAliveKubeConfig {
    let kc = this.kubeConfigs.get(cluster.name);
    if (!kc) {
      kc = new KeepAliveKubeConfig();
      if (cluster.kubeconfigPath) {
        kc.loadFromFile(cluster.kubeconfigPath);
      } else {
        if (!cluster.url)
          throw new InputError(
            `Cluster ${cluster.name} needs a url or a kubeconfigPath`,
          );
        kc.loadFromClusterAndUser(
          {
            name: cluster.name,
            server: cluster.url,
            caData: cluster.caData,
            skipTLSVerify: cluster.skipTLSVerify ?? false,
          },
          { name: `${cluster.name}-chaos`, token: cluster.serviceAccountToken },
        );
      }
      this.kubeConfigs.set(cluster.name, kc);
    }
    return kc;
  }

  /**
   * The hosts of the cluster's API server: what a steady-state probe must never be pointed at
   * (probes run inside the cluster, with the agent's network position).
   */
  apiServerHosts(cluster: ChaosCluster): string[] {
    const urls = [cluster.url];
    try {
      urls.push(this.kubeConfig(cluster).getCurrentCluster()?.server);
    } catch {
      // An unreadable kubeconfig fails the run later with its own error; nothing to add here.
    }
    const hosts = new Set<string>();
    for (const url of urls) {
      if (!url) continue;
      try {
        hosts.add(new URL(url).hostname.replace(/^\[|\]$/g, ''));
      } catch {
        // Not a URL: nothing to deny by it.
      }
    }
    return [...hosts];
  }

  /** Closes every cluster's shared connections (at shutdown). */
  async close(): Promise<void> {
    const configs = [...this.kubeConfigs.values()];
    this.kubeConfigs.clear();
    await Promise.all(configs.map(kc => kc.close()));
  }
}
