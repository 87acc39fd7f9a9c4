import type {
  PolicyV1Api,
  V1LabelSelector,
  V1PodDisruptionBudget,
} from '@kubernetes/client-node';
import { apiErrorBody } from '@chaoscraft/backstage-plugin-chaos-node';

/** matchLabels and matchExpressions, as the API server evaluates a LabelSelector. */
export function selectorMatches(
  selector: V1LabelSelector | undefined,
  labels: Record<string, string>,
): boolean {
  if (!selector) {
    return false;
  }
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) {
      return false;
    }
  }
  for (const expression of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, expression.key);
    const values = expression.values ?? [];
    switch (expression.operator) {
      case 'In':
        if (!has || !values.includes(labels[expression.key])) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[expression.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/**
 * The API server names the blocking budget in the eviction's 429 cause ("The disruption budget
 * web needs 9 healthy pods ..."); fall back to matching the namespace's budgets against the
 * pod's labels when the message says nothing usable (e.g. budget not yet observed).
 */
export async function findBlockingBudgets(
  policy: PolicyV1Api,
  namespace: string,
  podLabels: Record<string, string>,
  evictionError: unknown,
): Promise<string[]> {
  const causes = apiErrorBody(evictionError)?.details?.causes ?? [];
  for (const cause of causes) {
    const named = /disruption budget (\S+) /.exec(cause.message ?? '');
    if (named) {
      return [named[1]];
    }
  }
  const budgets = await policy.listNamespacedPodDisruptionBudget({ namespace });
  return budgets.items
    .filter((budget: V1PodDisruptionBudget) =>
      selectorMatches(budget.spec?.selector, podLabels),
    )
    .map(budget => budget.metadata?.name ?? '')
    .filter(Boolean);
}
