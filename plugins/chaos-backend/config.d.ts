export interface Config {
  /** ChaosCraft backend plugin. */
  chaos?: {
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
  };
}
