import {
  BlastRadius,
  ChaosCeilings,
  ChaosRunSpec,
  CHAOS_NAMESPACE_OPT_IN_LABEL,
  DEFAULT_CEILINGS,
  ceilingIssues,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { exceedsLimit } from '../selection/blastRadius';

/** Namespaces no run may ever target, whatever the configuration adds. */
export const ALWAYS_PROTECTED_NAMESPACES = [
  'kube-system',
  'kube-public',
  'kube-node-lease',
] as const;

/** Why a run was refused; these become status.reason, so they are API. */
export type RefusalReason =
  | 'InvalidSpec'
  | 'ProtectedNamespace'
  | 'NamespaceNotFound'
  | 'NamespaceNotOptedIn'
  | 'CrossNamespaceTarget'
  | 'UnsupportedFault'
  | 'NoEligibleTargets'
  | 'BlastRadiusExceeded'
  | 'AdmissionPlanInvalid'
  | 'NodeDaemonUnavailable'
  | 'NodeCapabilityMissing'
  | 'CeilingExceeded';

export interface Refusal {
  reason: RefusalReason;
  message: string;
}

/** The agent's safety configuration, from its flags. */
export interface SafetyPolicy {
  /** The agent's own namespace: protected, so chaos can never take the agent down. */
  agentNamespace: string;
  /** Added to ALWAYS_PROTECTED_NAMESPACES and the agent's namespace. */
  protectedNamespaces: readonly string[];
  /** Namespace label key that must be "true" for a namespace to accept chaos. */
  optInLabel: string;
  /**
   * A run may target only its own namespace unless this is set: whoever may create a ChaosRun
   * in namespace A must not thereby gain the power to kill pods in namespace B.
   */
  allowCrossNamespaceTargets: boolean;
  /**
   * The operator's ceilings (agent flags). Optional so that a policy built field by field keeps
   * compiling; checkCeilings applies DEFAULT_CEILINGS when absent.
   */
  ceilings?: ChaosCeilings;
  /** Probe hosts only this agent knows to deny: the API server's addresses. */
  apiServerHosts?: readonly string[];
}

export const DEFAULT_SAFETY_POLICY: Omit<SafetyPolicy, 'agentNamespace'> = {
  protectedNamespaces: [],
  optInLabel: CHAOS_NAMESPACE_OPT_IN_LABEL,
  allowCrossNamespaceTargets: false,
};

export function protectedNamespaceSet(
  policy: SafetyPolicy,
): ReadonlySet<string> {
  return new Set<string>([
    ...ALWAYS_PROTECTED_NAMESPACES,
    policy.agentNamespace,
    ...policy.protectedNamespaces,
  ]);
}

/** What preflight knows about the namespaces before it lists a single pod. */
export interface NamespaceFacts {
  runNamespace: string;
  targetNamespace: string;
  /** Labels of the target namespace; undefined when it does not exist. */
  targetNamespaceLabels: Record<string, string> | undefined;
}

type Rule<T> = (input: T, policy: SafetyPolicy) => Refusal | undefined;

const protectedNamespace: Rule<NamespaceFacts> = (facts, policy) =>
  protectedNamespaceSet(policy).has(facts.targetNamespace)
    ? {
        reason: 'ProtectedNamespace',
        message: `namespace ${facts.targetNamespace} is protected: chaos is never run there`,
      }
    : undefined;

const namespaceExists: Rule<NamespaceFacts> = facts =>
  facts.targetNamespaceLabels === undefined
    ? {
        reason: 'NamespaceNotFound',
        message: `namespace ${facts.targetNamespace} does not exist`,
      }
    : undefined;

const namespaceOptedIn: Rule<NamespaceFacts> = (facts, policy) =>
  facts.targetNamespaceLabels?.[policy.optInLabel] === 'true'
    ? undefined
    : {
        reason: 'NamespaceNotOptedIn',
        message: `namespace ${facts.targetNamespace} has not opted in to chaos: label it ${policy.optInLabel}=true`,
      };

const sameNamespace: Rule<NamespaceFacts> = (facts, policy) =>
  policy.allowCrossNamespaceTargets ||
  facts.runNamespace === facts.targetNamespace
    ? undefined
    : {
        reason: 'CrossNamespaceTarget',
        message: `the run lives in ${facts.runNamespace} but targets ${facts.targetNamespace}; a run may target only its own namespace`,
      };

/** Order matters: the first refusal is the one reported, most fundamental first. */
const NAMESPACE_RULES: Array<Rule<NamespaceFacts>> = [
  protectedNamespace,
  namespaceExists,
  namespaceOptedIn,
  sameNamespace,
];

/** The namespace guard, evaluated before any pod of the namespace is even listed. */
export function checkNamespace(
  facts: NamespaceFacts,
  policy: SafetyPolicy,
): Refusal | undefined {
  for (const rule of NAMESPACE_RULES) {
    const refusal = rule(facts, policy);
    if (refusal) {
      return refusal;
    }
  }
  return undefined;
}

/** Refuses what this agent cannot run safely, before anything is selected. */
export function checkSpecSupport(
  spec: Pick<ChaosRunSpec, 'faults'>,
  isSupportedFault: (type: string) => boolean,
): Refusal | undefined {
  const unsupported = spec.faults
    .map(f => f.type)
    .filter(type => !isSupportedFault(type));
  if (unsupported.length > 0) {
    return {
      reason: 'UnsupportedFault',
      message: `this agent cannot run fault type(s) ${unsupported.join(', ')}`,
    };
  }
  return undefined;
}

/** The blast-radius rule, evaluated on the plan before any pod is touched. */
export function checkBlastRadius(radius: BlastRadius): Refusal | undefined {
  if (radius.eligible === 0 || radius.selected === 0) {
    return {
      reason: 'NoEligibleTargets',
      message: 'no Running pod matches the target selector',
    };
  }
  if (exceedsLimit(radius)) {
    return {
      reason: 'BlastRadiusExceeded',
      message: `selecting ${radius.selected} of ${radius.eligible} eligible pods is ${radius.percent}%, above the limit of ${radius.limit}% (safety.maxBlastRadiusPercent)`,
    };
  }
  return undefined;
}

/**
 * The operator's ceilings, the same rules (and messages naming the spec field) as the backend's:
 * a ChaosRun made with kubectl meets them too. Evaluated before anything is selected; a denied
 * probe host is refused here, before any steady-state check (dry runs included) could fetch it.
 */
export function checkCeilings(
  spec: Pick<ChaosRunSpec, 'faults' | 'duration' | 'safety' | 'hypothesis'>,
  policy: Pick<SafetyPolicy, 'ceilings' | 'apiServerHosts'>,
): Refusal | undefined {
  const issues = ceilingIssues(
    spec,
    policy.ceilings ?? DEFAULT_CEILINGS,
    policy.apiServerHosts ?? [],
  );
  if (issues.length === 0) return undefined;
  return {
    reason: 'CeilingExceeded',
    message: `beyond the operator's ceilings: ${issues
      .map(i => `spec.${i.field}: ${i.message}`)
      .join('; ')}`.slice(0, 1024),
  };
}
