import type { Config } from '@backstage/config';
import {
  ChaosCeilings,
  DEFAULT_CEILINGS,
  FAULT_TYPES,
  FaultType,
  isValidHostPattern,
  parseDuration,
} from '@chaoscraft/backstage-plugin-chaos-common';

/** The operator's ceilings, with the per-cluster blast-radius caps. */
export type ConfiguredCeilings = {
  ceilings: ChaosCeilings;
  clusterMaxBlastRadiusPercent: Map<string, number>;
};

function percent(config: Config, key: string): number | undefined {
  const value = config.getOptionalNumber(key);
  if (value === undefined) return undefined;
  if (!(value >= 1 && value <= 100))
    throw new Error(
      `chaos.ceilings.${key} must be from 1 to 100, not ${value}`,
    );
  return value;
}

function duration(config: Config, key: string): number | undefined {
  const value = config.getOptionalString(key);
  if (value === undefined) return undefined;
  try {
    return parseDuration(value);
  } catch {
    throw new Error(
      `chaos.ceilings.${key} must be a duration such as 30s or 1h, not '${value}'`,
    );
  }
}

function hosts(config: Config, key: string): string[] {
  const values = config.getOptionalStringArray(key) ?? [];
  const bad = values.filter(v => !isValidHostPattern(v));
  if (bad.length)
    throw new Error(
      `chaos.ceilings.${key} has invalid host patterns: ${bad.join(', ')}`,
    );
  return values;
}

/**
 * Reads `chaos.ceilings` (see config.d.ts). Anything unset keeps the safe default; a malformed
 * value stops the plugin from starting rather than leaving a ceiling open.
 */
export function readCeilings(root: Config): ConfiguredCeilings {
  const config = root.getOptionalConfig('chaos.ceilings');
  if (!config)
    return {
      ceilings: DEFAULT_CEILINGS,
      clusterMaxBlastRadiusPercent: new Map(),
    };
  const faultTypes = config.getOptionalStringArray('allowedFaultTypes');
  const unknown =
    faultTypes?.filter(t => !(FAULT_TYPES as readonly string[]).includes(t)) ??
    [];
  if (unknown.length)
    throw new Error(
      `chaos.ceilings.allowedFaultTypes has unknown fault types: ${unknown.join(
        ', ',
      )}`,
    );
  const liveRuns = config.getOptionalNumber('maxLiveRunsPerEntity');
  if (
    liveRuns !== undefined &&
    !(Number.isInteger(liveRuns) && liveRuns >= 1)
  ) {
    throw new Error(
      'chaos.ceilings.maxLiveRunsPerEntity must be a whole number of at least 1',
    );
  }
  const requests = config.getOptionalNumber('maxProbeRequestsPerCheck');
  if (
    requests !== undefined &&
    !(Number.isInteger(requests) && requests >= 1)
  ) {
    throw new Error(
      'chaos.ceilings.maxProbeRequestsPerCheck must be a whole number of at least 1',
    );
  }
  const clusters = new Map<string, number>();
  const perCluster = config.getOptionalConfig('clusters');
  for (const name of perCluster?.keys() ?? []) {
    const cap = percent(perCluster!.getConfig(name), 'maxBlastRadiusPercent');
    if (cap !== undefined) clusters.set(name, cap);
  }
  return {
    ceilings: {
      maxBlastRadiusPercent:
        percent(config, 'maxBlastRadiusPercent') ??
        DEFAULT_CEILINGS.maxBlastRadiusPercent,
      maxDurationMs:
        duration(config, 'maxDuration') ?? DEFAULT_CEILINGS.maxDurationMs,
      allowedFaultTypes:
        (faultTypes as FaultType[] | undefined) ??
        DEFAULT_CEILINGS.allowedFaultTypes,
      minProbeIntervalMs:
        duration(config, 'minProbeInterval') ??
        DEFAULT_CEILINGS.minProbeIntervalMs,
      maxProbeRequestsPerCheck:
        requests ?? DEFAULT_CEILINGS.maxProbeRequestsPerCheck,
      probeHosts: {
        allow: hosts(config, 'probeHosts.allow'),
        deny: hosts(config, 'probeHosts.deny'),
      },
      maxLiveRunsPerEntity: liveRuns ?? DEFAULT_CEILINGS.maxLiveRunsPerEntity,
    },
    clusterMaxBlastRadiusPercent: clusters,
  };
}
