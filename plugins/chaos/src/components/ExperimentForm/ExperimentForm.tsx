import { useState } from 'react';
import {
  Button,
  Checkbox,
  Dialog,
  DialogActions,
  DialogContent,
  DialogTitle,
  FormControlLabel,
  Grid,
  MenuItem,
  TextField,
  Typography,
} from '@material-ui/core';
import {
  EntityTarget,
  Experiment,
  ExperimentSpecInput,
  FAULT_TYPES,
} from '@chaoscraft/backstage-plugin-chaos-common';
import {
  ExperimentFormState,
  FAULT_FIELDS,
  FormErrors,
  FormField,
  validateFormState,
} from './formModel';

const LABELS: Partial<Record<FormField, string>> = {
  gracePeriodSeconds: 'Grace period (s)',
  latencyMs: 'Latency (ms)',
  jitterMs: 'Jitter (ms)',
  lossPercent: 'Packet loss (%)',
  duplicatePercent: 'Duplication (%)',
  corruptPercent: 'Corruption (%)',
  rateKbit: 'Bandwidth (kbit/s)',
  direction: 'Direction',
  workers: 'Stress workers',
  loadPercent: 'CPU load (%)',
  megabytes: 'Memory held (MiB)',
};

export type ExperimentFormProps = {
  open: boolean;
  title: string;
  entityRef: string;
  /**
   * Where the entity's pods are (its annotations): the namespace and cluster are fixed to it, and
   * the selector may only narrow the entity's.
   */
  entityTarget: EntityTarget;
  initial: ExperimentFormState;
  /** The experiment being edited: its fields the form does not show are kept. */
  experiment?: Experiment;
  onCancel: () => void;
  /** Saves; a rejection is shown in the form (e.g. 403 or a name clash). */
  onSubmit: (spec: ExperimentSpecInput) => Promise<void>;
};

/** Create or edit an experiment; errors come from the common schema, next to each field. */
export const ExperimentForm = (props: ExperimentFormProps) => {
  const { open, title, entityRef, entityTarget, initial, experiment, onCancel, onSubmit } = props;
  const [state, setState] = useState<ExperimentFormState>(initial);
  const [errors, setErrors] = useState<FormErrors>({});
  const [saving, setSaving] = useState(false);

  const set = <K extends FormField>(field: K, value: ExperimentFormState[K]) =>
    setState(prev => ({ ...prev, [field]: value }));

  const text = (field: FormField, label: string, extra: Record<string, unknown> = {}) => (
    <TextField
      fullWidth
      id={`chaos-form-${field}`}
      label={label}
      value={state[field] as string}
      onChange={e => set(field, e.target.value as never)}
      error={Boolean(errors[field])}
      helperText={errors[field] ?? ' '}
      inputProps={{ 'aria-label': label }}
      {...extra}
    />
  );

  const submit = async () => {
    const result = validateFormState({ ...state, namespace: entityTarget.namespace }, entityRef, experiment, entityTarget);
    setErrors(result.errors);
    if (!result.spec) return;
    setSaving(true);
    try {
      await onSubmit(result.spec);
    } catch (error) {
      setErrors({ form: (error as Error).message });
    } finally {
      setSaving(false);
    }
  };

  return (
    <Dialog open={open} onClose={onCancel} maxWidth="md" fullWidth aria-labelledby="chaos-form-title">
      <DialogTitle id="chaos-form-title">{title}</DialogTitle>
      <DialogContent>
        <Grid container spacing={2}>
          <Grid item xs={6}>{text('name', 'Name')}</Grid>
          <Grid item xs={6}>{text('duration', 'Duration', { placeholder: '60s' })}</Grid>
          <Grid item xs={8}>{text('description', 'Description')}</Grid>
          <Grid item xs={4}>{text('schedule', 'Schedule (cron, UTC)', { placeholder: 'empty: only when started' })}</Grid>
          <Grid item xs={4}>
            {text('namespace', 'Namespace', {
              value: entityTarget.namespace,
              disabled: true,
              helperText: `cluster ${entityTarget.cluster}, from the entity`,
            })}
          </Grid>
          <Grid item xs={8}>
            {text('labelSelector', 'Label selector', {
              placeholder: 'app=checkout',
              helperText: errors.labelSelector ?? `within the entity's pods: ${entityTarget.selectorText}; add labels to narrow`,
            })}
          </Grid>
          <Grid item xs={4}>
            {text('selectionMode', 'Select', { select: true, children: [
              <MenuItem key="one" value="one">one pod</MenuItem>,
              <MenuItem key="fixed" value="fixed">a fixed count</MenuItem>,
              <MenuItem key="percent" value="percent">a percentage</MenuItem>,
            ] })}
          </Grid>
          {state.selectionMode === 'fixed' && <Grid item xs={4}>{text('count', 'Pods')}</Grid>}
          {state.selectionMode === 'percent' && <Grid item xs={4}>{text('percent', 'Percent of pods')}</Grid>}
          <Grid item xs={4}>{text('maxBlastRadiusPercent', 'Max blast radius (%)')}</Grid>
          <Grid item xs={4}>
            {text('faultType', 'Fault', { select: true, children: FAULT_TYPES.map(t => (
              <MenuItem key={t} value={t}>{t}</MenuItem>
            )) })}
          </Grid>
          {FAULT_FIELDS[state.faultType].map(field => (
            <Grid item xs={4} key={field}>
              {field === 'direction'
                ? text(field, LABELS[field]!, { select: true, children: ['egress', 'ingress', 'both'].map(d => (
                    <MenuItem key={d} value={d}>{d}</MenuItem>
                  )) })
                : text(field, LABELS[field]!)}
            </Grid>
          ))}
          <Grid item xs={12}>
            <FormControlLabel
              control={
                <Checkbox
                  checked={state.respectPodDisruptionBudgets}
                  onChange={e => set('respectPodDisruptionBudgets', e.target.checked)}
                />
              }
              label="Respect PodDisruptionBudgets (evict instead of delete)"
            />
          </Grid>
          <Grid item xs={12}>
            <Typography variant="subtitle2">Steady-state hypothesis (optional)</Typography>
          </Grid>
          <Grid item xs={7}>{text('probeQuery', 'PromQL query')}</Grid>
          <Grid item xs={2}>
            {text('probeComparison', 'Must be', { select: true, children: ['<', '<=', '>', '>=', '==', '!='].map(c => (
              <MenuItem key={c} value={c}>{c}</MenuItem>
            )) })}
          </Grid>
          <Grid item xs={3}>{text('probeThreshold', 'Threshold')}</Grid>
        </Grid>
        {errors.form && (
          <Typography color="error" role="alert">{errors.form}</Typography>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={onCancel}>Cancel</Button>
        <Button color="primary" variant="contained" onClick={submit} disabled={saving}>
          Save
        </Button>
      </DialogActions>
    </Dialog>
  );
};
