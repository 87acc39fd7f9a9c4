import {
  CHAOS_CLUSTER_ANNOTATION,
  CHAOS_MAX_BLAST_RADIUS_ANNOTATION,
  KUBERNETES_ID_ANNOTATION,
  KUBERNETES_LABEL_SELECTOR_ANNOTATION,
  KUBERNETES_NAMESPACE_ANNOTATION,
} from '../annotations';
import type { Target } from '../model/target';
import type { FieldIssue } from '../validation';
import {
  LabelSelectorRequirements,
  LabelSelectorSyntaxError,
  formatLabelSelector,
  parseLabelSelector,
  requirementsFromMatchLabels,
  selectorWithin,
} from './labelSelector';

/**
 * Where an entity's pods are, as its catalog annotations say: the only place its experiments
 * may point at. The entity's owners write these annotations, and only they may run chaos on the
 * entity, so a run can never reach pods its entity does not claim.
 */
export type EntityTarget = {
  cluster: string;
  namespace: string;
  /** The entity's selector, parsed; never empty. */
  selector: LabelSelectorRequirements;
  /** The same, as text (for messages and the form). */
  selectorText: string;
  /** The entity's own cap on the blast radius, when it sets one (it can only lower a ceiling). */
  maxBlastRadiusPercent?: number;
};

/** What is missing or wrong in an entity's annotations; `annotation` names the culprit. */
export type EntityTargetProblem = { annotation: string; message: string };

/**
 * Reads an entity's target from its annotations: namespace (`backstage.io/kubernetes-namespace`),
 * selector (`backstage.io/kubernetes-label-selector`, else `backstage.io/kubernetes-id`, as the
 * Kubernetes plugin reads them) and cluster (`chaoscraft.io/cluster`). All three are required.
 */
export function readEntityTarget(
  annotations: Record<string, string> = {},
):
  | { target: EntityTarget; problem?: undefined }
  | { target?: undefined; problem: EntityTargetProblem } {
  const namespace = annotations[KUBERNETES_NAMESPACE_ANNOTATION]?.trim();
  if (!namespace) {
    return {
      problem: {
        annotation: KUBERNETES_NAMESPACE_ANNOTATION,
        message: `the entity has no ${KUBERNETES_NAMESPACE_ANNOTATION} annotation, so it cannot have chaos experiments`,
      },
    };
  }
  let selector: LabelSelectorRequirements;
  const rawSelector = annotations[KUBERNETES_LABEL_SELECTOR_ANNOTATION];
  const id = annotations[KUBERNETES_ID_ANNOTATION]?.trim();
  if (rawSelector !== undefined && rawSelector.trim() !== '') {
    try {
      selector = parseLabelSelector(rawSelector);
    } catch (error) {
      const reason =
        error instanceof LabelSelectorSyntaxError
          ? error.message
          : String(error);
      return {
        problem: {
          annotation: KUBERNETES_LABEL_SELECTOR_ANNOTATION,
          message: `the entity's ${KUBERNETES_LABEL_SELECTOR_ANNOTATION} is not a label selector: ${reason}`,
        },
      };
    }
  } else if (id) {
    selector = requirementsFromMatchLabels({ [KUBERNETES_ID_ANNOTATION]: id });
  } else {
    return {
      problem: {
        annotation: KUBERNETES_LABEL_SELECTOR_ANNOTATION,
        message: `the entity has neither ${KUBERNETES_LABEL_SELECTOR_ANNOTATION} nor ${KUBERNETES_ID_ANNOTATION}, so its pods are unknown and it cannot have chaos experiments`,
      },
    };
  }
  const cluster = annotations[CHAOS_CLUSTER_ANNOTATION]?.trim();
  if (!cluster) {
    return {
      problem: {
        annotation: CHAOS_CLUSTER_ANNOTATION,
        message: `the entity has no ${CHAOS_CLUSTER_ANNOTATION} annotation naming the cluster of its pods, so it cannot have chaos experiments`,
      },
    };
  }
  const rawMax = annotations[CHAOS_MAX_BLAST_RADIUS_ANNOTATION];
  let maxBlastRadiusPercent: number | undefined;
  if (rawMax !== undefined) {
    maxBlastRadiusPercent = Number(rawMax);
    if (
      rawMax.trim() === '' ||
      !Number.isFinite(maxBlastRadiusPercent) ||
      maxBlastRadiusPercent < 1 ||
      maxBlastRadiusPercent > 100
    ) {
      return {
        problem: {
          annotation: CHAOS_MAX_BLAST_RADIUS_ANNOTATION,
          message: `the entity's ${CHAOS_MAX_BLAST_RADIUS_ANNOTATION} must be a number from 1 to 100, not '${rawMax}'`,
        },
      };
    }
  }
  return {
    target: {
      cluster,
      namespace,
      selector,
      selectorText: formatLabelSelector(selector),
      maxBlastRadiusPercent,
    },
  };
}

/**
 * The issues of an experiment's target against its entity's: the namespace must be the entity's
 * and the selector at least as narrow as the entity's. Empty when the target is within.
 */
export function targetIssues(
  target: Pick<Target, 'namespace' | 'labelSelector'>,
  entity: EntityTarget,
): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (target.namespace !== entity.namespace) {
    issues.push({
      field: 'target.namespace',
      message: `must be ${entity.namespace}, the entity's namespace (${KUBERNETES_NAMESPACE_ANNOTATION}), not ${target.namespace}`,
    });
  }
  const outside = selectorWithin(
    requirementsFromMatchLabels(target.labelSelector),
    entity.selector,
  );
  if (outside) {
    issues.push({
      field: 'target.labelSelector',
      message: `must select only the entity's pods (${
        entity.selectorText
      }): it does not imply '${formatLabelSelector([outside])}'`,
    });
  }
  return issues;
}

/**
 * The narrowest `matchLabels` the form can start from: the entity's equality requirements. It is
 * within the entity's selector when the entity uses equalities only; otherwise the owner must add
 * labels, and the form checks them with targetIssues.
 */
export function defaultMatchLabels(
  entity: EntityTarget,
): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const r of entity.selector) {
    if (r.operator === 'in' && r.values.length === 1)
      labels[r.key] = r.values[0];
  }
  return labels;
}
