import {
  ReactNode,
  createContext,
  useContext,
  useEffect,
  useState,
} from 'react';
import {
  Box,
  Button,
  Checkbox,
  Dialog,
  DialogActions,
  DialogContent,
  DialogTitle,
  FormControl,
  FormControlLabel,
  FormGroup,
  FormHelperText,
  FormLabel,
  Grid,
  MenuItem,
  Paper,
  TextField,
  Typography,
  makeStyles,
} from '@material-ui/core';
import {
  Control,
  FieldPath,
  UseFormSetValue,
  useController,
  useFieldArray,
  useForm,
  useWatch,
} from 'react-hook-form';
import {
  type EntityCeilings,
  type EntityTarget,
  type Experiment,
  type ExperimentSpecInput,
  FAULT_TYPES,
  type FaultType,
  type FieldIssue,
  type ProbeType,
  nextOccurrence,
  probePhaseSchema,
} from '@chaoscraft/backstage-plugin-chaos-common';
import {
  type FieldSpec,
  type FormIssues,
  type FormValues,
  PROBE_TYPES,
  faultFields,
  isNetworkFaultType,
  issuesOfAnswer,
  labelOf,
  newFault,
  newProbe,
  newStep,
  placeIssues,
  probeFields,
  validateValues,
} from './formModel';

const useStyles = makeStyles(theme => ({
  section: { marginTop: theme.spacing(3), marginBottom: theme.spacing(1) },
  card: { padding: theme.spacing(2), marginBottom: theme.spacing(2) },
  cardHeader: {
    display: 'flex',
    justifyContent: 'space-between',
    alignItems: 'center',
    marginBottom: theme.spacing(1),
  },
}));

const FormContext = createContext<{
  control: Control<FormValues>;
  issues: FormIssues;
}>(undefined as never);

/** A text (or select) input bound to a value path, with its issue from the schema under it. */
const Field = (props: {
  name: FieldPath<FormValues>;
  label: string;
  helper?: ReactNode;
  options?: Array<{ value: string; label: string; disabled?: boolean }>;
  placeholder?: string;
  disabled?: boolean;
  onChange?: (value: string) => void;
}) => {
  const { control, issues } = useContext(FormContext);
  const { field } = useController({ control, name: props.name });
  const error = issues.byInput[props.name];
  return (
    <TextField
      fullWidth
      id={`chaos-form-${props.name}`}
      label={props.label}
      value={(field.value as string | undefined) ?? ''}
      onChange={e =>
        props.onChange
          ? props.onChange(e.target.value)
          : field.onChange(e.target.value)
      }
      onBlur={field.onBlur}
      inputRef={field.ref}
      name={props.name}
      error={Boolean(error)}
      helperText={error ?? props.helper ?? ' '}
      placeholder={props.placeholder}
      disabled={props.disabled}
      select={Boolean(props.options)}
      inputProps={{ 'aria-label': props.label }}
    >
      {props.options?.map(o => (
        <MenuItem key={o.value} value={o.value} disabled={o.disabled}>
          {o.label}
        </MenuItem>
      ))}
    </TextField>
  );
};

const CheckField = (props: { name: FieldPath<FormValues>; label: string }) => {
  const { control } = useContext(FormContext);
  const { field } = useController({ control, name: props.name });
  return (
    <FormControlLabel
      control={
        <Checkbox
          checked={Boolean(field.value)}
          onChange={e => field.onChange(e.target.checked)}
          inputRef={field.ref}
        />
      }
      label={props.label}
    />
  );
};

/** Where a probe is checked: before injection, while faults are active, after rollback. */
const CheckAtField = (props: { name: FieldPath<FormValues> }) => {
  const { control, issues } = useContext(FormContext);
  const { field } = useController({ control, name: props.name });
  const phases = (field.value as string[] | undefined) ?? [];
  const error = issues.byInput[props.name];
  const toggle = (phase: string, on: boolean) =>
    field.onChange(
      probePhaseSchema.options.filter(p =>
        p === phase ? on : phases.includes(p),
      ),
    );
  return (
    <FormControl error={Boolean(error)} component="fieldset">
      <FormLabel component="legend">Checked</FormLabel>
      <FormGroup row>
        {probePhaseSchema.options.map(phase => (
          <FormControlLabel
            key={phase}
            control={
              <Checkbox
                checked={phases.includes(phase)}
                onChange={e => toggle(phase, e.target.checked)}
              />
            }
            label={phase}
          />
        ))}
      </FormGroup>
      <FormHelperText>
        {error ?? 'before injection, while faults are active, after rollback'}
      </FormHelperText>
    </FormControl>
  );
};

const modelField = (prefix: string, spec: FieldSpec) => (
  <Grid
    item
    xs={12}
    sm={spec.key === 'query' || spec.key === 'url' ? 12 : 4}
    key={spec.key}
  >
    <Field
      name={`${prefix}.fields.${spec.key}` as FieldPath<FormValues>}
      label={labelOf(spec.key)}
      options={spec.options?.map(o => ({ value: o, label: o }))}
      placeholder={
        spec.optional && spec.defaultValue === undefined
          ? 'optional'
          : undefined
      }
    />
  </Grid>
);

const SelectionFields = (props: { prefix: string; countLabel?: string }) => {
  const { control } = useContext(FormContext);
  const mode = useWatch({
    control,
    name: `${props.prefix}.mode` as FieldPath<FormValues>,
  });
  return (
    <>
      <Grid item xs={12} sm={4}>
        <Field
          name={`${props.prefix}.mode` as FieldPath<FormValues>}
          label="Select"
          options={[
            { value: 'one', label: 'one pod' },
            { value: 'fixed', label: 'a fixed count' },
            { value: 'percent', label: 'a percentage' },
          ]}
        />
      </Grid>
      {mode === 'fixed' && (
        <Grid item xs={12} sm={4}>
          <Field
            name={`${props.prefix}.count` as FieldPath<FormValues>}
            label={props.countLabel ?? 'Pods'}
          />
        </Grid>
      )}
      {mode === 'percent' && (
        <Grid item xs={12} sm={4}>
          <Field
            name={`${props.prefix}.percent` as FieldPath<FormValues>}
            label="Percent of pods"
          />
        </Grid>
      )}
    </>
  );
};

const Card = (props: {
  label: string;
  title: ReactNode;
  onRemove?: () => void;
  removeLabel: string;
  children: ReactNode;
}) => {
  const classes = useStyles();
  return (
    <Paper
      variant="outlined"
      className={classes.card}
      role="group"
      aria-label={props.label}
    >
      <Box className={classes.cardHeader}>
        <Typography variant="subtitle1" component="h4">
          {props.title}
        </Typography>
        {props.onRemove && (
          <Button
            size="small"
            onClick={props.onRemove}
            aria-label={props.removeLabel}
          >
            Remove
          </Button>
        )}
      </Box>
      <Grid container spacing={2}>
        {props.children}
      </Grid>
    </Paper>
  );
};

const FaultCard = (props: {
  index: number;
  count: number;
  allowed: readonly FaultType[];
  onRemove: () => void;
  setValue: UseFormSetValue<FormValues>;
}) => {
  const { control } = useContext(FormContext);
  const prefix = `faults.${props.index}` as const;
  const type = useWatch({ control, name: `${prefix}.type` }) as FaultType;
  const all = useWatch({ control, name: 'faults' });
  const usedElsewhere = new Set(
    all.filter((_f, i) => i !== props.index).map(f => f.type),
  );
  return (
    <Card
      label={`Fault ${props.index + 1}`}
      title={`Fault ${props.index + 1}`}
      onRemove={props.count > 1 ? props.onRemove : undefined}
      removeLabel={`Remove fault ${props.index + 1}`}
    >
      <Grid item xs={12} sm={4}>
        <Field
          name={`${prefix}.type`}
          label="Fault"
          options={FAULT_TYPES.map(t => {
            let note = '';
            if (!props.allowed.includes(t)) note = ' (not allowed here)';
            else if (usedElsewhere.has(t))
              note = ' (already in this experiment)';
            return { value: t, label: `${t}${note}`, disabled: note !== '' };
          })}
          // A new type has other fields: they start from the model's defaults.
          onChange={value => {
            const current = all[props.index];
            props.setValue(
              prefix,
              {
                ...newFault(value as FaultType),
                device: current.device,
                destinations: current.destinations,
              },
              { shouldDirty: true },
            );
          }}
        />
      </Grid>
      {faultFields(type).map(spec => modelField(prefix, spec))}
      {isNetworkFaultType(type) && (
        <>
          <Grid item xs={12} sm={4}>
            <Field
              name={`${prefix}.device`}
              label="Interface"
              helper="inside the pod's network namespace"
            />
          </Grid>
          <Grid item xs={12} sm={5}>
            <Field
              name={`${prefix}.destinations.cidrs`}
              label="Only to CIDRs"
              placeholder="e.g. 10.96.0.0/12, 192.168.1.0/24"
              helper="empty: all traffic leaving the pod"
            />
          </Grid>
          <Grid item xs={12} sm={3}>
            <Field
              name={`${prefix}.destinations.ports`}
              label="Only to ports"
              placeholder="e.g. 80, 443"
              helper="empty: every port"
            />
          </Grid>
        </>
      )}
    </Card>
  );
};

const ProbeCard = (props: {
  index: number;
  onRemove: () => void;
  setValue: UseFormSetValue<FormValues>;
}) => {
  const { control } = useContext(FormContext);
  const prefix = `hypothesis.probes.${props.index}` as const;
  const type = useWatch({ control, name: `${prefix}.type` }) as ProbeType;
  const name = useWatch({ control, name: `${prefix}.name` });
  const checkAt = useWatch({ control, name: `${prefix}.checkAt` });
  return (
    <Card
      label={`Probe ${props.index + 1}`}
      title={`Probe ${props.index + 1}`}
      onRemove={props.onRemove}
      removeLabel={`Remove probe ${props.index + 1}`}
    >
      <Grid item xs={12} sm={4}>
        <Field
          name={`${prefix}.type`}
          label="Probe type"
          options={PROBE_TYPES.map(t => ({
            value: t,
            label: {
              promql: 'PromQL',
              http: 'HTTP',
              k8s: 'Kubernetes Deployment',
            }[t],
          }))}
          onChange={value =>
            props.setValue(
              prefix,
              { ...newProbe(value as ProbeType, name), checkAt },
              { shouldDirty: true },
            )
          }
        />
      </Grid>
      <Grid item xs={12} sm={4}>
        <Field name={`${prefix}.name`} label="Probe name" />
      </Grid>
      <Grid item xs={12} sm={4}>
        <CheckAtField name={`${prefix}.checkAt`} />
      </Grid>
      {probeFields(type).map(spec => modelField(prefix, spec))}
    </Card>
  );
};

const StepCard = (props: { index: number; onRemove: () => void }) => (
  <Card
    label={`Step ${props.index + 1}`}
    title={`Step ${props.index + 1}`}
    onRemove={props.onRemove}
    removeLabel={`Remove step ${props.index + 1}`}
  >
    <SelectionFields
      prefix={`safety.progressiveSteps.${props.index}.selection`}
    />
    <Grid item xs={12} sm={4}>
      <Field
        name={`safety.progressiveSteps.${props.index}.hold`}
        label="Hold"
        helper="the hypothesis gates the next step"
      />
    </Grid>
  </Card>
);

const Section = (props: { title: string; children?: ReactNode }) => {
  const classes = useStyles();
  return (
    <Typography variant="h6" component="h3" className={classes.section}>
      {props.title}
      {props.children}
    </Typography>
  );
};

function scheduleHelper(schedule: string): string {
  if (!schedule.trim()) return 'empty: runs only when started';
  try {
    return `next: ${nextOccurrence(schedule.trim(), new Date())
      .toISOString()
      .replace('T', ' ')
      .slice(0, 16)} UTC`;
  } catch {
    return 'minute hour day-of-month month day-of-week, in UTC';
  }
}

export type ExperimentFormProps = {
  open: boolean;
  title: string;
  entityRef: string;
  /**
   * Where the entity's pods are (its annotations): the namespace and cluster are fixed to it, and
   * the selector may only narrow the entity's.
   */
  entityTarget: EntityTarget;
  /** The entity's ceilings from the backend; without them only the backend checks them. */
  ceilings?: EntityCeilings;
  initial: FormValues;
  /** The experiment being edited. */
  experiment?: Experiment;
  /** PromQL a new probe starts with (the entity's chaoscraft.io/hypothesis-query). */
  hypothesisQuery?: string;
  onCancel: () => void;
  /** Saves; a rejection is shown in the form, at the fields a 400 names. */
  onSubmit: (spec: ExperimentSpecInput) => Promise<void>;
};

/**
 * Create or edit an experiment: every part of the model (several faults, one of each type, with
 * their destinations; target selection; safety with progressive steps; probes of each kind with
 * when they are checked; duration and schedule). Errors come from the common schema and the
 * backend's rules, next to each field, before anything is sent.
 */
export const ExperimentForm = (props: ExperimentFormProps) => {
  const {
    open,
    title,
    entityRef,
    entityTarget,
    ceilings,
    initial,
    onCancel,
    onSubmit,
  } = props;
  const { control, getValues, setValue, setFocus, watch } = useForm<FormValues>(
    { defaultValues: initial },
  );
  const faults = useFieldArray({ control, name: 'faults' });
  const steps = useFieldArray({ control, name: 'safety.progressiveSteps' });
  const probes = useFieldArray({ control, name: 'hypothesis.probes' });
  const [submitted, setSubmitted] = useState(false);
  const [answerIssues, setAnswerIssues] = useState<FieldIssue[]>([]);
  const [saving, setSaving] = useState(false);
  const [, setVersion] = useState(0);

  // After the first Save, errors follow every change; the backend's answer holds until one.
  useEffect(() => {
    const subscription = watch(() => {
      setAnswerIssues([]);
      setVersion(v => v + 1);
    });
    return () => subscription.unsubscribe();
  }, [watch]);

  const context = { entityRef, entityTarget, ceilings };
  const localIssues = submitted
    ? validateValues(getValues(), context).issues
    : [];
  const issues = placeIssues([...localIssues, ...answerIssues]);
  const allowed = ceilings?.allowedFaultTypes ?? FAULT_TYPES;
  const schedule = watch('schedule');

  const focusFirst = (placed: FormIssues) => {
    const first = Object.keys(placed.byInput)[0];
    if (first) {
      try {
        setFocus(first as FieldPath<FormValues>);
      } catch {
        // an input that is not on screen
      }
    }
  };

  const submit = async () => {
    setSubmitted(true);
    const result = validateValues(getValues(), context);
    if (!result.spec) {
      focusFirst(placeIssues(result.issues));
      return;
    }
    setSaving(true);
    try {
      await onSubmit(result.spec);
    } catch (error) {
      // A ResponseError carries the backend's own message, which names each field at fault.
      const answer = (error as { body?: { error?: { message?: string } } }).body
        ?.error?.message;
      const answered = issuesOfAnswer(answer ?? (error as Error).message);
      setAnswerIssues(answered);
      focusFirst(placeIssues(answered));
    } finally {
      setSaving(false);
    }
  };

  const addFault = () => {
    const used = new Set(getValues('faults').map(f => f.type));
    const next = allowed.find(t => !used.has(t));
    if (next) faults.append(newFault(next), { shouldFocus: false });
  };

  const addProbe = () => {
    const count = getValues('hypothesis.probes').length;
    const hasPromql = getValues('hypothesis.probes').some(
      p => p.type === 'promql',
    );
    probes.append(
      newProbe('promql', count === 0 ? 'steady-state' : `probe-${count + 1}`, {
        query: hasPromql ? undefined : props.hypothesisQuery,
      }),
      {
        // The new card's first input is a select, which MUI cannot focus before it is drawn.
        shouldFocus: false,
      },
    );
  };

  const ceilingNote = ceilings
    ? `at most ${ceilings.maxBlastRadiusPercent}% here (operator and entity ceilings)`
    : 'the backend checks it against the ceilings';

  return (
    <Dialog
      open={open}
      onClose={onCancel}
      maxWidth="lg"
      fullWidth
      scroll="paper"
      aria-labelledby="chaos-form-title"
    >
      <DialogTitle id="chaos-form-title">{title}</DialogTitle>
      <DialogContent dividers>
        <FormContext.Provider value={{ control, issues }}>
          <form
            noValidate
            aria-label="Experiment"
            onSubmit={e => {
              e.preventDefault();
              void submit();
            }}
          >
            <Grid container spacing={2}>
              <Grid item xs={12} sm={6}>
                <Field name="name" label="Name" />
              </Grid>
              <Grid item xs={12} sm={3}>
                <Field
                  name="duration"
                  label="Duration"
                  placeholder="60s"
                  helper="how long faults stay (e.g. 30s, 5m)"
                />
              </Grid>
              <Grid item xs={12} sm={3}>
                <Field
                  name="schedule"
                  label="Schedule (cron, UTC)"
                  placeholder="0 3 * * 1"
                  helper={scheduleHelper(schedule)}
                />
              </Grid>
              <Grid item xs={12}>
                <Field name="description" label="Description" />
              </Grid>
            </Grid>

            <Section title="Targets" />
            <Grid container spacing={2}>
              <Grid item xs={12} sm={4}>
                <Field
                  name="target.namespace"
                  label="Namespace"
                  disabled
                  helper={`cluster ${entityTarget.cluster}, from the entity`}
                />
              </Grid>
              <Grid item xs={12} sm={5}>
                <Field
                  name="target.labelSelector"
                  label="Label selector"
                  placeholder="app=checkout"
                  helper={`within the entity's pods: ${entityTarget.selectorText}; add labels to narrow`}
                />
              </Grid>
              <Grid item xs={12} sm={3}>
                <Field
                  name="target.container"
                  label="Container"
                  placeholder="the pod's first"
                  helper="for stress faults"
                />
              </Grid>
              <SelectionFields prefix="target.selection" />
            </Grid>

            <Section title="Faults" />
            {faults.fields.map((field, index) => (
              <FaultCard
                key={field.id}
                index={index}
                count={faults.fields.length}
                allowed={allowed}
                onRemove={() => faults.remove(index)}
                setValue={setValue}
              />
            ))}
            <Button
              variant="outlined"
              onClick={addFault}
              disabled={faults.fields.length >= allowed.length}
            >
              Add fault
            </Button>

            <Section title="Safety" />
            <Grid container spacing={2}>
              <Grid item xs={12} sm={4}>
                <Field
                  name="safety.maxBlastRadiusPercent"
                  label="Max blast radius (%)"
                  helper={ceilingNote}
                />
              </Grid>
              <Grid item xs={12} sm={8}>
                <CheckField
                  name="safety.respectPodDisruptionBudgets"
                  label="Respect PodDisruptionBudgets (evict instead of delete)"
                />
              </Grid>
            </Grid>
            <Typography variant="body2" color="textSecondary">
              Progressive steps widen the blast radius step by step; the run
              stops at the first step whose hypothesis fails.
            </Typography>
            {steps.fields.map((field, index) => (
              <StepCard
                key={field.id}
                index={index}
                onRemove={() => steps.remove(index)}
              />
            ))}
            <Button
              variant="outlined"
              onClick={() => steps.append(newStep(), { shouldFocus: false })}
            >
              Add progressive step
            </Button>

            <Section title="Steady-state hypothesis" />
            {probes.fields.length === 0 && (
              <Typography variant="body2" color="textSecondary">
                No probes: the run checks nothing and ends without a verdict (it
                does not raise the resilience score).
              </Typography>
            )}
            {probes.fields.map((field, index) => (
              <ProbeCard
                key={field.id}
                index={index}
                onRemove={() => probes.remove(index)}
                setValue={setValue}
              />
            ))}
            {probes.fields.length > 0 && (
              <Grid container spacing={2}>
                <Grid item xs={12} sm={4}>
                  <Field
                    name="hypothesis.interval"
                    label="Check every"
                    helper="while faults are active"
                  />
                </Grid>
                <Grid item xs={12} sm={4}>
                  <Field
                    name="hypothesis.failureThreshold"
                    label="Abort after failed checks"
                  />
                </Grid>
                <Grid item xs={12} sm={4}>
                  <Field
                    name="hypothesis.recoveryTimeout"
                    label="Recovery timeout"
                    helper="for the checks after rollback"
                  />
                </Grid>
              </Grid>
            )}
            <Button variant="outlined" onClick={addProbe}>
              Add probe
            </Button>
            {issues.general.length > 0 && (
              <Box mt={2} role="alert">
                {issues.general.map(message => (
                  <Typography key={message} color="error">
                    {message}
                  </Typography>
                ))}
              </Box>
            )}
          </form>
        </FormContext.Provider>
      </DialogContent>
      <DialogActions>
        <Button onClick={onCancel}>Cancel</Button>
        <Button
          color="primary"
          variant="contained"
          onClick={() => void submit()}
          disabled={saving}
        >
          Save
        </Button>
      </DialogActions>
    </Dialog>
  );
};
