import {
  EntityTarget,
  Experiment,
  ExperimentSpecInput,
  Fault,
  FaultType,
  experimentSpecSchema,
  formatZodIssues,
  targetIssues,
} from '@chaoscraft/backstage-plugin-chaos-common';

/**
 * The experiment form edits a flat record of strings; this module turns it into an
 * ExperimentSpecInput and validates it with the one schema from the common package, so the
 * form shows exactly the errors the backend would answer with, next to the right field.
 */
export type ExperimentFormState = {
  name: string;
  description: string;
  namespace: string;
  labelSelector: string;
  selectionMode: 'one' | 'fixed' | 'percent';
  count: string;
  percent: string;
  faultType: FaultType;
  gracePeriodSeconds: string;
  latencyMs: string;
  jitterMs: string;
  lossPercent: string;
  duplicatePercent: string;
  corruptPercent: string;
  rateKbit: string;
  direction: 'egress' | 'ingress' | 'both';
  workers: string;
  loadPercent: string;
  megabytes: string;
  duration: string;
  maxBlastRadiusPercent: string;
  respectPodDisruptionBudgets: boolean;
  probeQuery: string;
  probeComparison: '<' | '<=' | '>' | '>=' | '==' | '!=';
  probeThreshold: string;
  /** Cron (UTC); empty: the experiment runs only when started. */
  schedule: string;
};

export type FormField = keyof ExperimentFormState;
export type FormErrors = Partial<Record<FormField | 'form', string>>;

/** Which form field each fault type shows, besides the common ones. */
export const FAULT_FIELDS: Record<FaultType, FormField[]> = {
  'pod-kill': ['gracePeriodSeconds'],
  'network-latency': ['latencyMs', 'jitterMs'],
  'network-loss': ['lossPercent'],
  'network-duplicate': ['duplicatePercent'],
  'network-corrupt': ['corruptPercent'],
  'network-bandwidth': ['rateKbit'],
  'network-partition': ['direction'],
  'cpu-stress': ['workers', 'loadPercent'],
  'memory-stress': ['workers', 'megabytes'],
};

const NUMERIC_FAULT_FIELDS = new Set<FormField>([
  'gracePeriodSeconds', 'latencyMs', 'jitterMs', 'lossPercent', 'duplicatePercent',
  'corruptPercent', 'rateKbit', 'workers', 'loadPercent', 'megabytes',
]);

export function emptyFormState(defaults: {
  namespace?: string;
  labelSelector?: Record<string, string>;
  maxBlastRadiusPercent?: number;
  hypothesisQuery?: string;
} = {}): ExperimentFormState {
  return {
    name: '',
    description: '',
    namespace: defaults.namespace ?? '',
    labelSelector: formatSelector(defaults.labelSelector ?? {}),
    selectionMode: 'one',
    count: '',
    percent: '',
    faultType: 'pod-kill',
    gracePeriodSeconds: '0',
    latencyMs: '100',
    jitterMs: '0',
    lossPercent: '10',
    duplicatePercent: '1',
    corruptPercent: '1',
    rateKbit: '1000',
    direction: 'both',
    workers: '1',
    loadPercent: '100',
    megabytes: '256',
    duration: '60s',
    maxBlastRadiusPercent: String(defaults.maxBlastRadiusPercent ?? 10),
    respectPodDisruptionBudgets: true,
    probeQuery: defaults.hypothesisQuery ?? '',
    probeComparison: '<',
    probeThreshold: '',
    schedule: '',
  };
}

export function formStateFromExperiment(experiment: Experiment): ExperimentFormState {
  const state = emptyFormState();
  const fault = experiment.faults[0];
  const probe = experiment.hypothesis?.probes.find(p => p.type === 'promql');
  const faultValues: Partial<ExperimentFormState> = {};
  for (const field of FAULT_FIELDS[fault.type]) {
    const value = (fault as Record<string, unknown>)[field];
    if (value !== undefined) (faultValues as Record<string, unknown>)[field] = NUMERIC_FAULT_FIELDS.has(field) ? String(value) : value;
  }
  return {
    ...state,
    ...faultValues,
    name: experiment.name,
    description: experiment.description,
    namespace: experiment.target.namespace,
    labelSelector: formatSelector(experiment.target.labelSelector),
    selectionMode: experiment.target.selection.mode,
    count: experiment.target.selection.count?.toString() ?? '',
    percent: experiment.target.selection.percent?.toString() ?? '',
    faultType: fault.type,
    duration: experiment.duration,
    maxBlastRadiusPercent: String(experiment.safety.maxBlastRadiusPercent),
    respectPodDisruptionBudgets: experiment.safety.respectPodDisruptionBudgets,
    probeQuery: probe?.type === 'promql' ? probe.query : '',
    probeComparison: probe?.type === 'promql' ? probe.comparison : '<',
    probeThreshold: probe?.type === 'promql' ? String(probe.threshold) : '',
    schedule: experiment.schedule ?? '',
  };
}

/** `app=checkout, tier=web` ⇄ `{app: 'checkout', tier: 'web'}`. */
export function parseSelector(text: string): Record<string, string> {
  const selector: Record<string, string> = {};
  for (const part of text.split(',').map(p => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    selector[eq < 0 ? part : part.slice(0, eq).trim()] = eq < 0 ? '' : part.slice(eq + 1).trim();
  }
  return selector;
}

export function formatSelector(selector: Record<string, string>): string {
  return Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(', ');
}

/** Empty stays undefined (so defaults apply); anything else must be a number. */
function num(value: string): number | undefined {
  return value.trim() === '' ? undefined : Number(value);
}

function faultFromState(state: ExperimentFormState): Fault {
  const fault: Record<string, unknown> = { type: state.faultType };
  for (const field of FAULT_FIELDS[state.faultType]) {
    fault[field] = NUMERIC_FAULT_FIELDS.has(field) ? num(state[field] as string) : state[field];
  }
  return fault as Fault;
}

export function specFromFormState(
  state: ExperimentFormState,
  entityRef: string,
  keep?: Experiment,
): ExperimentSpecInput {
  const probeQuery = state.probeQuery.trim();
  // The form edits the first PromQL probe; other probes of the experiment stay as they are.
  const keptProbes = keep?.hypothesis?.probes ?? [];
  const keepProbe = keptProbes.find(p => p.type === 'promql');
  return {
    name: state.name.trim(),
    entityRef,
    description: state.description,
    target: {
      namespace: state.namespace.trim(),
      labelSelector: parseSelector(state.labelSelector),
      selection: {
        mode: state.selectionMode,
        count: state.selectionMode === 'fixed' ? num(state.count) : undefined,
        percent: state.selectionMode === 'percent' ? num(state.percent) : undefined,
      },
    },
    // The form edits the first fault; further faults of an experiment defined as code stay.
    faults: [faultFromState(state), ...(keep?.faults.slice(1) ?? [])],
    duration: state.duration.trim(),
    safety: {
      ...keep?.safety,
      maxBlastRadiusPercent: num(state.maxBlastRadiusPercent),
      respectPodDisruptionBudgets: state.respectPodDisruptionBudgets,
    },
    hypothesis: probeQuery
      ? {
          ...keep?.hypothesis,
          probes: [
            {
              ...keepProbe,
              type: 'promql',
              name: keepProbe?.name ?? 'steady-state',
              query: probeQuery,
              comparison: state.probeComparison,
              threshold: num(state.probeThreshold) as number,
            },
            ...keptProbes.filter(p => p !== keepProbe),
          ],
        }
      : undefined,
    schedule: state.schedule.trim() || undefined,
  };
}

/** Where an issue at a spec path shows in the form. */
function fieldForPath(path: string): FormField | 'form' {
  const direct: Record<string, FormField> = {
    name: 'name',
    description: 'description',
    'target.namespace': 'namespace',
    'target.selection.mode': 'selectionMode',
    'target.selection.count': 'count',
    'target.selection.percent': 'percent',
    duration: 'duration',
    'safety.maxBlastRadiusPercent': 'maxBlastRadiusPercent',
    'hypothesis.probes.0.query': 'probeQuery',
    'hypothesis.probes.0.threshold': 'probeThreshold',
    schedule: 'schedule',
  };
  if (direct[path]) return direct[path];
  if (path.startsWith('target.labelSelector')) return 'labelSelector';
  const faultField = /^faults\.0\.(\w+)/.exec(path)?.[1];
  if (faultField === 'type') return 'faultType';
  if (faultField && faultField in emptyFormState()) return faultField as FormField;
  return 'form';
}

/**
 * Validates with the common schema and, given the entity's target, with the same binding rule
 * as the backend (namespace the entity's, selector within the entity's); returns the errors
 * keyed by form field.
 */
export function validateFormState(
  state: ExperimentFormState,
  entityRef: string,
  keep?: Experiment,
  entityTarget?: EntityTarget,
): { spec?: ExperimentSpecInput; errors: FormErrors } {
  const spec = specFromFormState(state, entityRef, keep);
  const result = experimentSpecSchema.safeParse(spec);
  let issues = result.success ? [] : formatZodIssues(result.error);
  if (result.success && entityTarget) issues = targetIssues(result.data.target, entityTarget);
  if (issues.length === 0) return { spec, errors: {} };
  const errors: FormErrors = {};
  for (const issue of issues) {
    const field = fieldForPath(issue.field);
    const message = field === 'form' ? `${issue.field}: ${issue.message}` : issue.message;
    errors[field] ??= message;
  }
  return { errors };
}
