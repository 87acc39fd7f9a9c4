import type { Probe } from '@chaoscraft/backstage-plugin-chaos-common';
import { HttpProbeChecker, type HttpProbeOptions } from './http';
import { K8sProbeChecker } from './k8s';
import { PromqlProbeChecker, type PromqlProbeOptions } from './promql';
import type { ProbeCheck, ProbeChecker, ProbeContext } from './types';

export type {
  ProbeBound,
  ProbeCheck,
  ProbeChecker,
  ProbeContext,
} from './types';
export { formatValue, probeBound, satisfies } from './comparison';
export { HttpProbeChecker } from './http';
export { K8sProbeChecker } from './k8s';
export { PromqlProbeChecker, readSingleValue } from './promql';

/** A probe whose `type` no checker handles (a newer schema than this agent, or a bug). */
export class UnknownProbeTypeError extends Error {
  constructor(readonly probeType: string) {
    super(`no checker for probe type '${probeType}'`);
    this.name = 'UnknownProbeTypeError';
  }
}

export interface SteadyStateProbesOptions {
  promql?: PromqlProbeOptions;
  http?: HttpProbeOptions;
  /** Replace or add checkers (tests use fakes here). */
  checkers?: ProbeChecker[];
}

/**
 * The router from a probe to its checker, one set per run (checkers may remember a probe's
 * `for` window between checks). `check` never throws for a probe's own failure: a checker that
 * throws becomes an error sample, so a broken probe fails the hypothesis instead of the run loop.
 */
export class SteadyStateProbes {
  private readonly checkers = new Map<string, ProbeChecker>();

  constructor(options: SteadyStateProbesOptions = {}) {
    const defaults: ProbeChecker[] = [
      new PromqlProbeChecker(options.promql) as ProbeChecker,
      new HttpProbeChecker(options.http) as ProbeChecker,
      new K8sProbeChecker() as ProbeChecker,
    ];
    for (const checker of [...defaults, ...(options.checkers ?? [])]) {
      this.checkers.set(checker.type, checker);
    }
  }

  /** Throws UnknownProbeTypeError for a type no checker handles. */
  async check(probe: Probe, ctx: ProbeContext): Promise<ProbeCheck> {
    const checker = this.checkers.get(probe.type);
    if (!checker) {
      throw new UnknownProbeTypeError(probe.type);
    }
    try {
      return await checker.check(probe, ctx);
    } catch (error) {
      return {
        ok: false,
        error: `probe check threw: ${
          (error as Error).message ?? String(error)
        }`.slice(0, 512),
      };
    }
  }
}
