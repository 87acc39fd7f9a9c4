import type { V1Pod } from '@kubernetes/client-node';

/**
 * The little the selector needs to know about a pod. Keeping only this (not whole V1Pods) is
 * what keeps selection over thousands of pods within the agent's memory budget.
 */
export interface CandidatePod {
  name: string;
  uid: string;
  node?: string;
  phase?: string;
  deleting: boolean;
  labels: Record<string, string>;
  /** metadata.creationTimestamp in epoch ms (the API gives whole seconds). */
  createdAt?: number;
}

/** The few fields of a pod selection reads, whether from the typed client or raw JSON. */
export interface PodFields {
  metadata?: {
    name?: string;
    uid?: string;
    labels?: Record<string, string>;
    creationTimestamp?: unknown;
    deletionTimestamp?: unknown;
  };
  spec?: { nodeName?: string };
  status?: { phase?: string };
}

export function toCandidatePod(pod: V1Pod | PodFields): CandidatePod {
  // The typed client gives a Date, raw JSON (watch cache, lists) an RFC 3339 string.
  const created = pod.metadata?.creationTimestamp;
  let createdAt = NaN;
  if (created instanceof Date) createdAt = created.getTime();
  else if (typeof created === 'string') createdAt = Date.parse(created);
  return {
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
    node: pod.spec?.nodeName,
    phase: pod.status?.phase,
    deleting: Boolean(pod.metadata?.deletionTimestamp),
    labels: pod.metadata?.labels ?? {},
    ...(Number.isFinite(createdAt) ? { createdAt } : {}),
  };
}

/**
 * Only Running pods that are not being deleted can be disrupted: killing a Pending pod tests
 * nothing, and a terminating one is already going away.
 */
export function isEligible(pod: CandidatePod): boolean {
  return pod.phase === 'Running' && !pod.deleting;
}

/** `matchLabels` as the API server's labelSelector query parameter. */
export function labelSelectorQuery(selector: Record<string, string>): string {
  return Object.entries(selector)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}
