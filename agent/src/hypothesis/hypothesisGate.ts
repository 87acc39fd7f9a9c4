import type {
  ChaosRunSpec,
  ProbeResult,
  Verdict,
} from '@chaoscraft/backstage-plugin-chaos-common';
import type { Logger } from '../log';
import type { RunStatus } from '@chaoscraft/backstage-plugin-chaos-node';

/** What a gate sees of a run; read-only. */
export interface GateInput {
  /** The run's identity, "<namespace>/<name>": two runs with the same spec never share probe state. */
  runKey: string;
  spec: ChaosRunSpec;
  status: Readonly<RunStatus>;
  log: Logger;
}

export interface GateCheck {
  ok: boolean;
  /** CamelCase cause when not ok, e.g. SteadyStateNotMet; becomes status.reason. */
  reason?: string;
  message?: string;
  /** Probe results to store in status.probes (replaces the list when given). */
  probes?: ProbeResult[];
  /** When not ok during the run: ISO time of the first violating sample (status.abortLatencyMs counts from it). */
  violationSince?: string;
}

export interface GateVerdict {
  verdict: Verdict;
  reason: string;
  message: string;
  probes?: ProbeResult[];
}

/**
 * The seam where the steady-state hypothesis plugs into the run pipeline. It lives here, beside
 * its implementation (ProbeHypothesisGate), so that the controller depends on the hypothesis and
 * never the other way round. The controller calls:
 * - before(): in preflight, after the plan is made and before anything is injected; not ok
 *   refuses the run (verdict Refused, nothing touched).
 * - during(): on every tick while Running (heartbeat interval, or a progressive step's hold);
 *   not ok stops the run (RollingBack, then Aborted with verdict Failed).
 * - violation(): resolves the moment the during-checks find a violation; the controller races
 *   it against its tick so that rollback does not wait for the next tick.
 * - after(): once every fault is rolled back; its verdict is the run's verdict.
 * - forget(): the run is gone (deleted) without a conclusion; close(): the controller stops.
 */
export interface HypothesisGate {
  before(input: GateInput): Promise<GateCheck>;
  during(input: GateInput): Promise<GateCheck>;
  violation?(input: GateInput): Promise<GateCheck>;
  after(input: GateInput): Promise<GateVerdict>;
  forget?(runKey: string): Promise<void>;
  close?(): Promise<void>;
}

/** The default: nothing is checked, so nothing can be concluded about steady state. */
export const noHypothesisGate: HypothesisGate = {
  before: async () => ({ ok: true }),
  during: async () => ({ ok: true }),
  after: async ({ spec }) => ({
    verdict: 'Inconclusive',
    reason: 'NoHypothesisEvaluated',
    message: spec.hypothesis
      ? 'this agent build does not evaluate steady-state probes; the verdict is unknown'
      : 'the run has no steady-state hypothesis; the faults ran, nothing was checked',
  }),
};
