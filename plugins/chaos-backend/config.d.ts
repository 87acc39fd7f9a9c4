export interface Config {
  /** ChaosCraft backend plugin. */
  chaos?: {
    /**
     * Groups whose members may write the catalog and use the Kubernetes proxy under the shipped
     * permission policy (packages/backend). Default `group:default/admins`.
     */
    adminGroups?: string[];
    /**
     * End-of-run notifications (the notifications backend must be installed).
     */
    notifications?: {
      /**
       * Tell the entity's owners and the run's starter when a run ends. Default true; set false
       * in an app without `@backstage/plugin-notifications-backend`.
       */
      enabled?: boolean;
    };
    /**
     * Clusters the chaos plugin may create runs in. When absent, the clusters of
     * `kubernetes.clusterLocatorMethods` entries of type `config` are used.
     */
    clusters?: Array<{
      /** Name that entities refer to with the `chaoscraft.io/cluster` annotation. */
      name: string;
      /** URL of the cluster's API server. */
      url: string;
      /**
       * Bearer token of a service account allowed to manage ChaosRuns.
       * @visibility secret
       */
      serviceAccountToken?: string;
      /**
       * Base64 PEM of the API server's CA.
       * @visibility secret
       */
      caData?: string;
      /** Skip TLS verification; for local sandboxes only. */
      skipTLSVerify?: boolean;
      /** A kubeconfig file instead of url and token (local development). */
      kubeconfigPath?: string;
    }>;
    /**
     * Limits no experiment can raise, enforced on create, update and every run (400 naming the
     * field). The agent enforces the same rules through its flags (chart values `ceilings`).
     */
    ceilings?: {
      /** Highest safety.maxBlastRadiusPercent, 1-100. Default 50. */
      maxBlastRadiusPercent?: number;
      /** Per cluster name: a lower blast-radius cap for that cluster. */
      clusters?: { [name: string]: { maxBlastRadiusPercent?: number } };
      /** Longest run duration (and total of progressive holds), e.g. `30m`. Default `1h`. */
      maxDuration?: string;
      /** Fault types that may be used at all. Default: every type. */
      allowedFaultTypes?: string[];
      /** Shortest hypothesis.interval, e.g. `5s`. Default `1s`. */
      minProbeInterval?: string;
      /** Most requests all http probes of a run send per check, together. Default 100. */
      maxProbeRequestsPerCheck?: number;
      /**
       * Hosts http probes may reach: exact names, `*.suffix`, or CIDRs. Loopback, link-local
       * (169.254.0.0/16, fe80::/10), `localhost` and the API server are denied unless allowed.
       */
      probeHosts?: {
        /** When set, only these hosts. */
        allow?: string[];
        /** Always denied, even when allowed. */
        deny?: string[];
      };
      /** Live runs one entity may have at once (one per experiment always). Default 3. */
      maxLiveRunsPerEntity?: number;
    };
    /**
     * Experiments kept as code: YAML files at each entity's `chaoscraft.io/experiments-location`,
     * and ChaosExperiment resources in the configured clusters.
     */
    experimentsAsCode?: {
      /** How often both are read, e.g. `30s` (the default) or `2m`. */
      refreshInterval?: string;
      /**
       * Local directories that `file:` locations may point into, read by the local file reader
       * (`localFileUrlReaderFactory`, added to the backend). For development; default none.
       */
      localDirectories?: string[];
    };
  };
}
