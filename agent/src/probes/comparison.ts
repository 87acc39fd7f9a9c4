import type {
  Comparison,
  Probe,
} from '@chaoscraft/backstage-plugin-chaos-common';
import type { ProbeBound } from './types';

/** Does `value <comparison> threshold` hold? NaN never satisfies a comparison. */
export function satisfies(
  value: number,
  comparison: Comparison,
  threshold: number,
): boolean {
  if (Number.isNaN(value)) {
    return false;
  }
  switch (comparison) {
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '==':
      return value === threshold;
    case '!=':
      return value !== threshold;
    default: {
      const unknown: never = comparison;
      throw new TypeError(`unknown comparison '${String(unknown)}'`);
    }
  }
}

/**
 * The bound each probe type is judged against, in one place so that messages, status and the
 * checkers agree: promql says it explicitly; http is a success ratio at or above
 * minSuccessRatio; k8s an available-replica ratio at or above minAvailableRatio.
 */
export function probeBound(probe: Probe): ProbeBound {
  switch (probe.type) {
    case 'promql':
      return { comparison: probe.comparison, threshold: probe.threshold };
    case 'http':
      return { comparison: '>=', threshold: probe.minSuccessRatio };
    case 'k8s':
      return { comparison: '>=', threshold: probe.minAvailableRatio };
    default: {
      const unknown: never = probe;
      throw new TypeError(`unknown probe type '${(unknown as Probe).type}'`);
    }
  }
}

/** Short human form of a number: 0.0734 → "0.0734", 12345.678 → "12345.68". */
export function formatValue(value: number | undefined): string {
  if (value === undefined) {
    return 'no value';
  }
  if (!Number.isFinite(value)) {
    return String(value);
  }
  return Number.isInteger(value)
    ? String(value)
    : String(Number(value.toPrecision(4)));
}
