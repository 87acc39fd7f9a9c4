import type { AppsV1Api } from '@kubernetes/client-node';
import type {
  Probe,
  ProbePhase,
} from '@chaoscraft/backstage-plugin-chaos-common';

/**
 * One observation of a probe. `ok` says whether the probe counts as holding; `value` is the
 * measured number (error rate, success ratio, available ratio) whenever one was measured, so
 * that a failing check can always say what it saw; `error` says what went wrong beyond the
 * value: a measurement that could not be made (no data, timeout, API error) or, for http, what
 * the failing requests saw. A check with an `error` and no `value` is never ok.
 */
export interface ProbeCheck {
  ok: boolean;
  value?: number;
  error?: string;
  /**
   * The condition is violated but still inside the probe's grace window (promql `for`): the
   * check counts as ok, and the monitor remembers when the violation began.
   */
  pending?: boolean;
}

/** What a probe needs from the run around it. */
export interface ProbeContext {
  /** The run's target namespace: where k8s probes look for their Deployment. */
  namespace: string;
  /** Which check this is: promql's `for` window applies only while faults are active. */
  phase: ProbePhase;
  /** Prometheus base URL (agent flag `--prometheus-url`), required by promql probes. */
  prometheusUrl?: string;
  /** Apps API of the target cluster, required by k8s probes. */
  apps?: AppsV1Api;
  /** Cancels in-flight requests when the run stops. */
  signal?: AbortSignal;
  /** Clock, injectable for tests of time windows. Default Date.now. */
  now?: () => number;
}

/**
 * One probe type. A checker may keep state across checks of the same probe (keyed by the
 * probe's name), which is how promql's `for` window works; create one checker set per run.
 */
export interface ProbeChecker<P extends Probe = Probe> {
  readonly type: P['type'];
  check(probe: P, ctx: ProbeContext): Promise<ProbeCheck>;
}

/** The threshold a probe is judged against, for messages and for status. */
export interface ProbeBound {
  comparison: '<' | '<=' | '>' | '>=' | '==' | '!=';
  threshold: number;
}
