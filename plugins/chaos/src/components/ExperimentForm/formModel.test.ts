import { experimentSpecSchema, readEntityTarget } from '@chaoscraft/backstage-plugin-chaos-common';
import {
  emptyFormState,
  formStateFromExperiment,
  parseSelector,
  validateFormState,
} from './formModel';

const entityRef = 'component:default/checkout';
const valid = {
  ...emptyFormState({ namespace: 'chaos-demo', labelSelector: { app: 'checkout' } }),
  name: 'kill-some',
};

describe('experiment form model', () => {
  it('turns a valid form into a spec the schema accepts', () => {
    const { spec, errors } = validateFormState({ ...valid, selectionMode: 'percent', percent: '30' }, entityRef);
    expect(errors).toEqual({});
    expect(experimentSpecSchema.parse(spec)).toMatchObject({
      target: { labelSelector: { app: 'checkout' }, selection: { mode: 'percent', percent: 30 } },
      faults: [{ type: 'pod-kill', gracePeriodSeconds: 0 }],
    });
  });

  it('puts each schema error next to its field', () => {
    const { spec, errors } = validateFormState(
      { ...valid, name: 'Not Valid', labelSelector: '', selectionMode: 'fixed', duration: 'soon', faultType: 'network-latency', latencyMs: 'x' },
      entityRef,
    );
    expect(spec).toBeUndefined();
    expect(errors.name).toMatch(/lowercase/);
    expect(errors.labelSelector).toMatch(/must not be empty/);
    expect(errors.count).toMatch(/required when mode is 'fixed'/);
    expect(errors.duration).toMatch(/duration/);
    expect(errors.latencyMs).toBeDefined();
  });

  it('edits the schedule: empty means none, a bad one is refused next to the field', () => {
    expect(validateFormState({ ...valid, schedule: '  ' }, entityRef).spec?.schedule).toBeUndefined();
    expect(validateFormState({ ...valid, schedule: ' 0 3 * * 1 ' }, entityRef).spec?.schedule).toBe('0 3 * * 1');
    expect(validateFormState({ ...valid, schedule: '99 * * * *' }, entityRef).errors.schedule).toMatch(/not a valid cron expression/);
  });

  it('round-trips an experiment through the form', () => {
    const experiment = {
      ...experimentSpecSchema.parse({
        name: 'lag',
        entityRef,
        target: { namespace: 'chaos-demo', labelSelector: { app: 'checkout', tier: 'web' } },
        faults: [{ type: 'network-latency', latencyMs: 250, jitterMs: 20 }, { type: 'pod-kill' }],
        hypothesis: { probes: [{ type: 'promql', name: 'errors', query: 'sum(rate(x[1m]))', comparison: '<', threshold: 0.05 }] },
        schedule: '*/30 * * * *',
      }),
      id: '1', createdBy: 'user:default/guest', createdAt: '', updatedAt: '',
    };
    const state = formStateFromExperiment(experiment);
    expect(state).toMatchObject({ latencyMs: '250', jitterMs: '20', labelSelector: 'app=checkout, tier=web', probeThreshold: '0.05', schedule: '*/30 * * * *' });
    const { spec } = validateFormState(state, entityRef, experiment);
    expect(experimentSpecSchema.parse(spec)).toEqual(
      (({ id, createdBy, createdAt, updatedAt, ...rest }) => rest)(experiment),
    );
  });

  it('keeps the target within the entity, with the backend\'s rule', () => {
    const { target } = readEntityTarget({
      'backstage.io/kubernetes-namespace': 'chaos-demo',
      'backstage.io/kubernetes-label-selector': 'app=checkout',
      'chaoscraft.io/cluster': 'sandbox',
    });
    expect(validateFormState({ ...valid, labelSelector: 'app=checkout, tier=web' }, entityRef, undefined, target).errors).toEqual({});
    expect(validateFormState({ ...valid, labelSelector: 'app=payments' }, entityRef, undefined, target).errors.labelSelector).toMatch(/only the entity's pods/);
    expect(validateFormState({ ...valid, namespace: 'other' }, entityRef, undefined, target).errors.namespace).toMatch(/must be chaos-demo/);
  });

  it('parses selectors written by hand', () => {
    expect(parseSelector(' app = checkout ,tier=web,')).toEqual({ app: 'checkout', tier: 'web' });
  });
});
