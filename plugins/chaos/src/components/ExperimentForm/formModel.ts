import {
  type EntityCeilings,
  type EntityTarget,
  type Experiment,
  type ExperimentSpecInput,
  type FaultType,
  type FieldIssue,
  type ProbePhase,
  type ProbeType,
  ceilingIssues,
  experimentSpecSchema,
  faultSchema,
  formatZodIssues,
  probeSchema,
  targetIssues,
} from '@chaoscraft/backstage-plugin-chaos-common';
import type { z } from 'zod';

/**
 * The experiment form edits the whole experiment model. Its values have the spec's shape, with
 * what people type as text (numbers, the selector, CIDR and port lists); `specFromValues` turns
 * them into an ExperimentSpecInput, converting numbers where the one schema of the common package
 * says a number is, and `validateValues` checks it with that schema and the backend's rules
 * (target within the entity, ceilings), so the form shows the errors the backend would answer
 * with, each at the input of its field path.
 */

export type SelectionValues = {
  mode: 'one' | 'fixed' | 'percent';
  count: string;
  percent: string;
};

/** One fault: its type, its own fields as text, and for network faults interface and destinations. */
export type FaultValues = {
  type: FaultType;
  fields: Record<string, string>;
  device: string;
  destinations: { cidrs: string; ports: string };
};

export type ProbeValues = {
  type: ProbeType;
  name: string;
  checkAt: ProbePhase[];
  fields: Record<string, string>;
};

export type StepValues = { selection: SelectionValues; hold: string };

export type FormValues = {
  name: string;
  description: string;
  duration: string;
  /** Cron (UTC); empty: the experiment runs only when started. */
  schedule: string;
  target: {
    namespace: string;
    labelSelector: string;
    container: string;
    selection: SelectionValues;
  };
  faults: FaultValues[];
  safety: {
    maxBlastRadiusPercent: string;
    respectPodDisruptionBudgets: boolean;
    progressiveSteps: StepValues[];
  };
  hypothesis: {
    interval: string;
    failureThreshold: string;
    recoveryTimeout: string;
    probes: ProbeValues[];
  };
};

// --- What the schema says about a field -------------------------------------------------------

type ZodDef = { type: string; [key: string]: any };
const defOf = (schema: unknown): ZodDef =>
  (schema as { _zod: { def: ZodDef } })._zod.def;

/** optional, default, prefault, nullable and pipes wrap the schema that says what a value is. */
function unwrap(schema: unknown): {
  base: unknown;
  optional: boolean;
  defaultValue?: unknown;
} {
  let current = schema;
  let optional = false;
  let defaultValue: unknown;
  for (;;) {
    const def = defOf(current);
    if (def.type === 'optional' || def.type === 'nullable') optional = true;
    else if (def.type === 'default' || def.type === 'prefault') {
      optional = true;
      defaultValue ??=
        typeof def.defaultValue === 'function'
          ? def.defaultValue()
          : def.defaultValue;
    } else if (def.type === 'pipe') {
      current = def.in;
      continue;
    } else return { base: current, optional, defaultValue };
    current = def.innerType;
  }
}

export type FieldKind = 'number' | 'text' | 'choice';
export type FieldSpec = {
  key: string;
  kind: FieldKind;
  options?: string[];
  optional: boolean;
  defaultValue?: unknown;
};

/** The fields of one member of a discriminated union (fault or probe), as the form shows them. */
function memberFields(
  union: unknown,
  type: string,
  skip: readonly string[],
): FieldSpec[] {
  const member = (defOf(union).options as unknown[]).find(option =>
    defOf(defOf(option).shape.type).values?.includes(type),
  );
  if (!member) return [];
  return Object.entries(defOf(member).shape as Record<string, unknown>)
    .filter(([key]) => !skip.includes(key))
    .map(([key, schema]) => {
      const { base, optional, defaultValue } = unwrap(schema);
      const def = defOf(base);
      let kind: FieldKind = 'text';
      if (def.type === 'number') kind = 'number';
      else if (def.type === 'enum') kind = 'choice';
      return {
        key,
        kind,
        options:
          def.type === 'enum'
            ? Object.values(def.entries as Record<string, string>)
            : undefined,
        optional,
        defaultValue,
      };
    });
}

const NETWORK_SCOPE = ['device', 'destinations'];

/** The fields a fault type has, from the model (interface and destinations aside). */
export function faultFields(type: FaultType): FieldSpec[] {
  return memberFields(faultSchema, type, ['type', ...NETWORK_SCOPE]);
}

export function isNetworkFaultType(type: FaultType): boolean {
  return type.startsWith('network-');
}

/** The fields a probe type has, from the model (name and checkAt aside). */
export function probeFields(type: ProbeType): FieldSpec[] {
  return memberFields(probeSchema, type, ['type', 'name', 'checkAt']);
}

export const PROBE_TYPES: ProbeType[] = (
  defOf(probeSchema).options as unknown[]
).map(option => defOf(defOf(option).shape.type).values[0] as ProbeType);

export const FIELD_LABELS: Record<string, string> = {
  gracePeriodSeconds: 'Grace period (s)',
  latencyMs: 'Latency (ms)',
  jitterMs: 'Jitter (ms)',
  correlationPercent: 'Correlation (%)',
  lossPercent: 'Packet loss (%)',
  duplicatePercent: 'Duplication (%)',
  corruptPercent: 'Corruption (%)',
  rateKbit: 'Bandwidth (kbit/s)',
  burstBytes: 'Burst (bytes)',
  limitBytes: 'Queue limit (bytes)',
  direction: 'Direction',
  workers: 'Stress workers',
  loadPercent: 'CPU load (%)',
  megabytes: 'Memory held (MiB)',
  query: 'PromQL query',
  comparison: 'Must be',
  threshold: 'Threshold',
  for: 'Failing for (duration)',
  url: 'URL',
  expectedStatus: 'Expected status',
  maxLatencyMs: 'Max latency (ms)',
  requests: 'Requests per check',
  minSuccessRatio: 'Min success ratio (0-1)',
  deployment: 'Deployment',
  minAvailableRatio: 'Min available ratio (0-1)',
};

export const labelOf = (key: string): string => FIELD_LABELS[key] ?? key;

/** Where a new fault or probe starts, for fields the model gives no default. */
const STARTING_VALUES: Record<string, string> = {
  latencyMs: '100',
  lossPercent: '10',
  duplicatePercent: '1',
  corruptPercent: '1',
  rateKbit: '1000',
  megabytes: '256',
  comparison: '<',
  minAvailableRatio: '0.8',
};

const text = (value: unknown): string =>
  value === undefined || value === null ? '' : String(value);

function startingFields(fields: FieldSpec[]): Record<string, string> {
  return Object.fromEntries(
    fields.map(f => [f.key, text(f.defaultValue ?? STARTING_VALUES[f.key])]),
  );
}

export function newFault(type: FaultType): FaultValues {
  return {
    type,
    fields: startingFields(faultFields(type)),
    device: 'eth0',
    destinations: { cidrs: '', ports: '' },
  };
}

export function newProbe(
  type: ProbeType,
  name: string,
  defaults: { query?: string } = {},
): ProbeValues {
  const fields = startingFields(probeFields(type));
  if (type === 'promql' && defaults.query) fields.query = defaults.query;
  return { type, name, checkAt: ['before', 'during', 'after'], fields };
}

export const newSelection = (): SelectionValues => ({
  mode: 'one',
  count: '',
  percent: '',
});

export function newStep(): StepValues {
  return { selection: { mode: 'fixed', count: '1', percent: '' }, hold: '30s' };
}

// --- Values ⇄ spec ------------------------------------------------------------------------------

/** `app=checkout, tier=web` ⇄ `{app: 'checkout', tier: 'web'}`. */
export function parseSelector(value: string): Record<string, string> {
  const selector: Record<string, string> = {};
  for (const part of value
    .split(',')
    .map(p => p.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    selector[eq < 0 ? part : part.slice(0, eq).trim()] =
      eq < 0 ? '' : part.slice(eq + 1).trim();
  }
  return selector;
}

export function formatSelector(selector: Record<string, string>): string {
  return Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

const list = (value: string): string[] =>
  value
    .split(/[\s,]+/)
    .map(s => s.trim())
    .filter(Boolean);

export function emptyFormValues(
  defaults: {
    namespace?: string;
    labelSelector?: Record<string, string>;
    maxBlastRadiusPercent?: number;
    hypothesisQuery?: string;
  } = {},
): FormValues {
  return {
    name: '',
    description: '',
    duration: '60s',
    schedule: '',
    target: {
      namespace: defaults.namespace ?? '',
      labelSelector: formatSelector(defaults.labelSelector ?? {}),
      container: '',
      selection: newSelection(),
    },
    faults: [newFault('pod-kill')],
    safety: {
      maxBlastRadiusPercent: String(defaults.maxBlastRadiusPercent ?? 10),
      respectPodDisruptionBudgets: true,
      progressiveSteps: [],
    },
    hypothesis: {
      interval: '10s',
      failureThreshold: '3',
      recoveryTimeout: '60s',
      probes: defaults.hypothesisQuery
        ? [
            newProbe('promql', 'steady-state', {
              query: defaults.hypothesisQuery,
            }),
          ]
        : [],
    },
  };
}

const selectionValues = (s: {
  mode: SelectionValues['mode'];
  count?: number;
  percent?: number;
}): SelectionValues => ({
  mode: s.mode,
  count: text(s.count),
  percent: text(s.percent),
});

/** An experiment as the form edits it: every field of the model. */
export function formValuesFromExperiment(experiment: Experiment): FormValues {
  return {
    name: experiment.name,
    description: experiment.description,
    duration: experiment.duration,
    schedule: experiment.schedule ?? '',
    target: {
      namespace: experiment.target.namespace,
      labelSelector: formatSelector(experiment.target.labelSelector),
      container: experiment.target.container ?? '',
      selection: selectionValues(experiment.target.selection),
    },
    faults: experiment.faults.map(fault => {
      const record = fault as Record<string, unknown>;
      const scope = record as {
        device?: string;
        destinations?: { cidrs: string[]; ports?: number[] };
      };
      return {
        type: fault.type,
        fields: Object.fromEntries(
          faultFields(fault.type).map(f => [f.key, text(record[f.key])]),
        ),
        device: scope.device ?? 'eth0',
        destinations: {
          cidrs: (scope.destinations?.cidrs ?? []).join(', '),
          ports: (scope.destinations?.ports ?? []).join(', '),
        },
      };
    }),
    safety: {
      maxBlastRadiusPercent: String(experiment.safety.maxBlastRadiusPercent),
      respectPodDisruptionBudgets:
        experiment.safety.respectPodDisruptionBudgets,
      progressiveSteps: (experiment.safety.progressiveSteps ?? []).map(
        step => ({
          selection: selectionValues(step.selection),
          hold: step.hold,
        }),
      ),
    },
    hypothesis: {
      interval: experiment.hypothesis?.interval ?? '10s',
      failureThreshold: text(experiment.hypothesis?.failureThreshold ?? 3),
      recoveryTimeout: experiment.hypothesis?.recoveryTimeout ?? '60s',
      probes: (experiment.hypothesis?.probes ?? []).map(probe => ({
        type: probe.type,
        name: probe.name,
        checkAt: [...probe.checkAt],
        fields: Object.fromEntries(
          probeFields(probe.type).map(f => [
            f.key,
            text((probe as Record<string, unknown>)[f.key]),
          ]),
        ),
      })),
    },
  };
}

/**
 * Turns text into numbers where the schema has a number, and an empty text into "not given" where
 * the schema lets a field be absent (so its default applies). Anything that is not a number is
 * left as typed, so the schema's own message names it.
 */
export function coerce(schema: unknown, value: unknown): unknown {
  const { base, optional } = unwrap(schema);
  const def = defOf(base);
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed === '' && (optional || def.type === 'number')) return undefined;
    if (def.type === 'number')
      return Number.isFinite(Number(trimmed)) ? Number(trimmed) : value;
    return value;
  }
  if (Array.isArray(value) && def.type === 'array')
    return value.map(item => coerce(def.element, item));
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    if (def.type === 'object') {
      const shape = def.shape as Record<string, unknown>;
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [
          k,
          k in shape ? coerce(shape[k], v) : v,
        ]),
      );
    }
    if (def.type === 'union') {
      const type = (value as { type?: string }).type;
      const member = (def.options as unknown[]).find(
        o =>
          defOf(o).type === 'object' &&
          defOf(defOf(o).shape.type)?.values?.includes(type),
      );
      return member ? coerce(member, value) : value;
    }
    if (def.type === 'record') {
      return Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, coerce(def.valueType, v)]),
      );
    }
  }
  return value;
}

function selectionOf(s: SelectionValues) {
  return {
    mode: s.mode,
    count: s.mode === 'fixed' ? s.count : undefined,
    percent: s.mode === 'percent' ? s.percent : undefined,
  };
}

/** The values as the ExperimentSpecInput they mean (before validation). */
export function specFromValues(
  values: FormValues,
  entityRef: string,
): ExperimentSpecInput {
  const raw = {
    name: values.name.trim(),
    entityRef,
    description: values.description,
    target: {
      namespace: values.target.namespace.trim(),
      labelSelector: parseSelector(values.target.labelSelector),
      container: values.target.container,
      selection: selectionOf(values.target.selection),
    },
    faults: values.faults.map(fault => {
      const known = new Set(faultFields(fault.type).map(f => f.key));
      const fields = Object.fromEntries(
        Object.entries(fault.fields).filter(([key]) => known.has(key)),
      );
      if (!isNetworkFaultType(fault.type))
        return { type: fault.type, ...fields };
      const cidrs = list(fault.destinations.cidrs);
      const ports = list(fault.destinations.ports);
      return {
        type: fault.type,
        ...fields,
        device: fault.device,
        destinations:
          cidrs.length || ports.length
            ? { cidrs, ports: ports.length ? ports : undefined }
            : undefined,
      };
    }),
    duration: values.duration,
    safety: {
      maxBlastRadiusPercent: values.safety.maxBlastRadiusPercent,
      respectPodDisruptionBudgets: values.safety.respectPodDisruptionBudgets,
      progressiveSteps: values.safety.progressiveSteps.length
        ? values.safety.progressiveSteps.map(step => ({
            selection: selectionOf(step.selection),
            hold: step.hold,
          }))
        : undefined,
    },
    hypothesis: values.hypothesis.probes.length
      ? {
          interval: values.hypothesis.interval,
          failureThreshold: values.hypothesis.failureThreshold,
          recoveryTimeout: values.hypothesis.recoveryTimeout,
          probes: values.hypothesis.probes.map(probe => {
            const known = new Set(probeFields(probe.type).map(f => f.key));
            return {
              type: probe.type,
              name: probe.name.trim(),
              checkAt: probe.checkAt,
              ...Object.fromEntries(
                Object.entries(probe.fields).filter(([key]) => known.has(key)),
              ),
            };
          }),
        }
      : undefined,
    schedule: values.schedule.trim() || undefined,
  };
  return coerce(experimentSpecSchema, raw) as ExperimentSpecInput;
}

// --- Issues → inputs --------------------------------------------------------------------------

/** The paths that have an input in the form. */
const INPUT_PATHS: RegExp[] = [
  /^(name|description|duration|schedule)$/,
  /^target\.(namespace|labelSelector|container)$/,
  /^target\.selection\.(mode|count|percent)$/,
  /^faults\.\d+\.(?!destinations$)\w+$/,
  /^faults\.\d+\.destinations\.(cidrs|ports)$/,
  /^safety\.(maxBlastRadiusPercent|respectPodDisruptionBudgets)$/,
  /^safety\.progressiveSteps\.\d+\.hold$/,
  /^safety\.progressiveSteps\.\d+\.selection\.(mode|count|percent)$/,
  /^hypothesis\.(interval|failureThreshold|recoveryTimeout)$/,
  /^hypothesis\.probes\.\d+\.\w+$/,
];

/**
 * The input that shows an issue at `path`: the path itself, or its nearest ancestor with an input
 * (`target.labelSelector.app` → the selector, `faults.0.destinations.cidrs.2` → the CIDR list);
 * undefined when no input stands for it (shown above the form's buttons).
 */
export function inputPathFor(path: string): string | undefined {
  const parts = path.split('.');
  if (/^faults\.\d+\.destinations$/.test(path)) return `${path}.cidrs`;
  while (parts.length) {
    const candidate = parts.join('.');
    if (INPUT_PATHS.some(pattern => pattern.test(candidate))) {
      // The field name of a fault or probe input is the model's; those live under `fields`.
      return candidate;
    }
    parts.pop();
  }
  return undefined;
}

/** Where the form keeps the value of a spec path (fault and probe fields live under `fields`). */
export function valuePathFor(inputPath: string): string {
  const fault = /^faults\.(\d+)\.(\w+)$/.exec(inputPath);
  if (fault && !['type', 'device'].includes(fault[2]))
    return `faults.${fault[1]}.fields.${fault[2]}`;
  const probe = /^hypothesis\.probes\.(\d+)\.(\w+)$/.exec(inputPath);
  if (probe && !['type', 'name', 'checkAt'].includes(probe[2]))
    return `hypothesis.probes.${probe[1]}.fields.${probe[2]}`;
  return inputPath;
}

export type FormIssues = {
  /** By value path (the name of the input), the first message for it. */
  byInput: Record<string, string>;
  /** Issues no input stands for, as `field: message`. */
  general: string[];
};

export function placeIssues(issues: FieldIssue[]): FormIssues {
  const placed: FormIssues = { byInput: {}, general: [] };
  for (const issue of issues) {
    const input = inputPathFor(issue.field);
    if (input) placed.byInput[valuePathFor(input)] ??= issue.message;
    else placed.general.push(`${issue.field}: ${issue.message}`);
  }
  return placed;
}

/**
 * Validates with the common schema and, given the entity's target and ceilings, with the same
 * rules as the backend (target within the entity, ceilings), so what passes here is what the
 * backend accepts (but for the API server's own address as a probe host, which only it knows).
 */
export function validateValues(
  values: FormValues,
  context: {
    entityRef: string;
    entityTarget?: EntityTarget;
    ceilings?: EntityCeilings;
  },
): { spec?: ExperimentSpecInput; issues: FieldIssue[] } {
  const spec = specFromValues(values, context.entityRef);
  const result = experimentSpecSchema.safeParse(spec);
  if (!result.success)
    return { issues: formatZodIssues(result.error as z.ZodError) };
  const issues = [
    ...(context.entityTarget
      ? targetIssues(result.data.target, context.entityTarget)
      : []),
    ...(context.ceilings ? ceilingIssues(result.data, context.ceilings) : []),
  ];
  return issues.length ? { issues } : { spec, issues: [] };
}

/**
 * The issues of a 400 answer: `Invalid experiment: a.b: message; c: message` (the backend names
 * each field of the spec), or the whole message when it names none.
 */
export function issuesOfAnswer(message: string): FieldIssue[] {
  const body = /Invalid experiment: (.*)$/s.exec(message)?.[1];
  const named = /^([\w.]+|\(root\)|[\w./-]+): (.*)$/s;
  if (!body) {
    const single = named.exec(message);
    return single && inputPathFor(single[1])
      ? [{ field: single[1], message: single[2] }]
      : [{ field: '(root)', message }];
  }
  return body.split('; ').map(part => {
    const match = named.exec(part);
    return match
      ? { field: match[1], message: match[2] }
      : { field: '(root)', message: part };
  });
}
