import type { Probe } from '@chaoscraft/backstage-plugin-chaos-common';
import type { ProbeCheck, ProbeChecker, ProbeContext } from './types';

type K8sProbe = Extract<Probe, { type: 'k8s' }>;

/** The HTTP status of a client-node ApiException, if the error is one. */
function apiStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * k8s probe: the Deployment's available replicas over its desired replicas (spec.replicas),
 * which must stay at or above `minAvailableRatio`. A Deployment scaled to zero has nothing to be
 * unavailable, so its ratio is 1.
 */
export class K8sProbeChecker implements ProbeChecker<K8sProbe> {
  readonly type = 'k8s' as const;

  async check(probe: K8sProbe, ctx: ProbeContext): Promise<ProbeCheck> {
    if (!ctx.apps) {
      return {
        ok: false,
        error: 'no Kubernetes client configured for k8s probes',
      };
    }
    let deployment;
    try {
      deployment = await ctx.apps.readNamespacedDeployment({
        name: probe.deployment,
        namespace: ctx.namespace,
      });
    } catch (error) {
      const status = apiStatus(error);
      if (status === 404) {
        return {
          ok: false,
          error: `Deployment ${ctx.namespace}/${probe.deployment} not found`,
        };
      }
      const message =
        error instanceof Error ? error.message.split('\n')[0] : String(error);
      return {
        ok: false,
        error: `reading Deployment ${ctx.namespace}/${probe.deployment} failed${
          status ? ` (HTTP ${status})` : ''
        }: ${message}`.slice(0, 512),
      };
    }
    const desired = deployment.spec?.replicas ?? 1;
    const available = deployment.status?.availableReplicas ?? 0;
    const value = desired === 0 ? 1 : available / desired;
    return { ok: value >= probe.minAvailableRatio, value };
  }
}
