import type { FaultOfType } from '@chaoscraft/backstage-plugin-chaos-common';
import {
  apiErrorCode,
  describeApiError,
} from '@chaoscraft/backstage-plugin-chaos-node';
import type { KubeClients } from '../../kube/clients';
import type {
  ApplyContext,
  FaultModule,
  FaultOutcome,
  FaultTarget,
} from '../types';
import { findBlockingBudgets } from './disruptionBudget';

type PodKillFault = FaultOfType<'pod-kill'>;

function gone(target: FaultTarget): FaultOutcome {
  // 404 (no such pod) or 409 (uid precondition: a same-named replacement) both mean the pod we
  // planned to kill no longer exists, possibly because this run killed it before a restart.
  return {
    phase: 'Skipped',
    reason: 'ChaosTargetGone',
    message: `pod ${target.pod} (uid ${
      target.uid ?? '?'
    }) no longer exists; nothing was done`,
    eventType: 'Normal',
  };
}

async function evict(
  clients: KubeClients,
  target: FaultTarget,
  fault: PodKillFault,
  context: ApplyContext,
): Promise<FaultOutcome> {
  const { core, policy } = clients;
  try {
    await core.createNamespacedPodEviction({
      name: target.pod,
      namespace: target.namespace,
      body: {
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name: target.pod, namespace: target.namespace },
        deleteOptions: {
          gracePeriodSeconds: fault.gracePeriodSeconds,
          preconditions: target.uid ? { uid: target.uid } : undefined,
        },
      },
    });
  } catch (error) {
    const code = apiErrorCode(error);
    if (code === 404 || code === 409) {
      return gone(target);
    }
    if (code !== 429) {
      throw error;
    }
    let budgets: string[] = [];
    try {
      const pod = await core.readNamespacedPod({
        name: target.pod,
        namespace: target.namespace,
      });
      budgets = await findBlockingBudgets(
        policy,
        target.namespace,
        pod.metadata?.labels ?? {},
        error,
      );
    } catch (lookupError) {
      context.log.warn(
        { err: describeApiError(lookupError) },
        'could not find the blocking PodDisruptionBudget',
      );
    }
    const named = budgets.length ? budgets.join(', ') : 'unknown';
    return {
      phase: 'Blocked',
      reason: 'ChaosEvictionBlocked',
      message: `eviction of ${target.pod} blocked by PodDisruptionBudget ${named}; the pod was left alone`,
      eventType: 'Warning',
    };
  }
  return {
    phase: 'Injected',
    reason: 'ChaosPodKilled',
    message: `pod ${target.pod} evicted by chaos (grace period ${fault.gracePeriodSeconds}s)`,
    eventType: 'Warning',
  };
}

async function remove(
  clients: KubeClients,
  target: FaultTarget,
  fault: PodKillFault,
): Promise<FaultOutcome> {
  try {
    await clients.core.deleteNamespacedPod({
      name: target.pod,
      namespace: target.namespace,
      gracePeriodSeconds: fault.gracePeriodSeconds,
      body: {
        gracePeriodSeconds: fault.gracePeriodSeconds,
        preconditions: target.uid ? { uid: target.uid } : undefined,
      },
    });
  } catch (error) {
    const code = apiErrorCode(error);
    if (code === 404 || code === 409) {
      return gone(target);
    }
    throw error;
  }
  return {
    phase: 'Injected',
    reason: 'ChaosPodKilled',
    message: `pod ${target.pod} deleted by chaos (grace period ${fault.gracePeriodSeconds}s, PodDisruptionBudgets not consulted)`,
    eventType: 'Warning',
  };
}

/**
 * pod-kill: evicts the pod (policy/v1 Eviction, so PodDisruptionBudgets can refuse) when the
 * run respects budgets, else deletes it; its owner (ReplicaSet, StatefulSet...) replaces it.
 */
export const podKill: FaultModule = {
  type: 'pod-kill',
  executor: 'controller',
  create: ({ clients }) => ({
    type: 'pod-kill',
    executor: 'controller',
    apply: (target, fault, context) =>
      context.safety.respectPodDisruptionBudgets
        ? evict(clients, target, fault as PodKillFault, context)
        : remove(clients, target, fault as PodKillFault),
    // A killed pod cannot be un-killed; recovery is its owner's job.
    recover: async () => undefined,
  }),
};
