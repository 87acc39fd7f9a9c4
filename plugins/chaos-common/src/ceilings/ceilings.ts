import { parseDuration } from '../model/duration';
import { FAULT_TYPES, type FaultType } from '../model/faults';
import type { ChaosExperimentSpec } from '../model/experiment';
import type { FieldIssue } from '../validation';
import { probeHostRefusal, urlHost, type ProbeHostRules } from './probeHosts';

/**
 * Limits an operator sets and no experiment can raise. The backend enforces them on create,
 * update and run (config `chaos.ceilings`); the agent enforces the same rules at preflight (its
 * flags), so a ChaosRun made with kubectl meets them too.
 */
export type ChaosCeilings = {
  /** Highest safety.maxBlastRadiusPercent an experiment may set. */
  maxBlastRadiusPercent: number;
  /** Longest duration, and longest total of progressive holds. */
  maxDurationMs: number;
  /** Fault types that may run at all. */
  allowedFaultTypes: readonly FaultType[];
  /** Shortest hypothesis.interval. */
  minProbeIntervalMs: number;
  /** Most HTTP requests all http probes of a run may send per check, together. */
  maxProbeRequestsPerCheck: number;
  probeHosts: ProbeHostRules;
  /** Live runs an entity may have at once (one per experiment always). */
  maxLiveRunsPerEntity: number;
};

/** Safe defaults: what an operator who configures nothing gets. */
export const DEFAULT_CEILINGS: ChaosCeilings = {
  maxBlastRadiusPercent: 50,
  maxDurationMs: 60 * 60_000,
  allowedFaultTypes: FAULT_TYPES,
  minProbeIntervalMs: 1000,
  maxProbeRequestsPerCheck: 100,
  probeHosts: { allow: [], deny: [] },
  maxLiveRunsPerEntity: 3,
};

/**
 * The ceilings for one run: the configured ones, lowered (never raised) by a per-cluster cap and
 * by the entity's own `chaoscraft.io/max-blast-radius-percent`.
 */
export function effectiveCeilings(
  base: ChaosCeilings,
  lower: {
    clusterMaxBlastRadiusPercent?: number;
    entityMaxBlastRadiusPercent?: number;
  },
): ChaosCeilings {
  const caps = [
    base.maxBlastRadiusPercent,
    lower.clusterMaxBlastRadiusPercent,
    lower.entityMaxBlastRadiusPercent,
  ].filter((n): n is number => typeof n === 'number' && Number.isFinite(n));
  return { ...base, maxBlastRadiusPercent: Math.min(...caps) };
}

function safeDuration(value: string): number {
  try {
    return parseDuration(value);
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

type CeilingSpec = Pick<
  ChaosExperimentSpec,
  'faults' | 'duration' | 'safety' | 'hypothesis'
>;

/**
 * Every way a spec goes beyond the ceilings, each naming its field. `extraDeniedHosts` are probe
 * hosts only the caller knows to deny (the cluster's API server). Pure: the backend and the agent
 * call the same function.
 */
export function ceilingIssues(
  spec: CeilingSpec,
  ceilings: ChaosCeilings,
  extraDeniedHosts: readonly string[] = [],
): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (spec.safety.maxBlastRadiusPercent > ceilings.maxBlastRadiusPercent) {
    issues.push({
      field: 'safety.maxBlastRadiusPercent',
      message: `${spec.safety.maxBlastRadiusPercent} is above the ceiling of ${ceilings.maxBlastRadiusPercent}% set by the operator (or the entity's chaoscraft.io/max-blast-radius-percent)`,
    });
  }
  if (safeDuration(spec.duration) > ceilings.maxDurationMs) {
    issues.push({
      field: 'duration',
      message: `${spec.duration} is longer than the ceiling of ${formatMs(
        ceilings.maxDurationMs,
      )}`,
    });
  }
  const holds = (spec.safety.progressiveSteps ?? []).reduce(
    (sum, step) => sum + safeDuration(step.hold),
    0,
  );
  if (holds > ceilings.maxDurationMs) {
    issues.push({
      field: 'safety.progressiveSteps',
      message: `the steps hold ${formatMs(
        holds,
      )} together, longer than the ceiling of ${formatMs(
        ceilings.maxDurationMs,
      )}`,
    });
  }
  spec.faults.forEach((fault, index) => {
    if (!ceilings.allowedFaultTypes.includes(fault.type)) {
      issues.push({
        field: `faults.${index}.type`,
        message: `'${fault.type}' is not allowed here (allowed: ${
          ceilings.allowedFaultTypes.join(', ') || 'none'
        })`,
      });
    }
  });
  if (spec.hypothesis) {
    if (safeDuration(spec.hypothesis.interval) < ceilings.minProbeIntervalMs) {
      issues.push({
        field: 'hypothesis.interval',
        message: `${
          spec.hypothesis.interval
        } is shorter than the minimum of ${formatMs(
          ceilings.minProbeIntervalMs,
        )}`,
      });
    }
    let requests = 0;
    spec.hypothesis.probes.forEach((probe, index) => {
      if (probe.type !== 'http') return;
      requests += probe.requests;
      const host = urlHost(probe.url);
      const refusal =
        host === undefined
          ? `'${probe.url}' has no host`
          : probeHostRefusal(host, ceilings.probeHosts, extraDeniedHosts);
      if (refusal)
        issues.push({
          field: `hypothesis.probes.${index}.url`,
          message: refusal,
        });
    });
    if (requests > ceilings.maxProbeRequestsPerCheck) {
      issues.push({
        field: 'hypothesis.probes',
        message: `the http probes send ${requests} requests per check together, more than the ceiling of ${ceilings.maxProbeRequestsPerCheck}`,
      });
    }
  }
  return issues;
}
