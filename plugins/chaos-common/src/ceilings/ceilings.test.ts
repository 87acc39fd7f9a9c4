import { experimentSpecSchema } from '../model/experiment';
import { readEntityTarget, targetIssues } from '../selector/entityTarget';
import { DEFAULT_CEILINGS, ceilingIssues, effectiveCeilings } from './ceilings';
import { hostMatches, probeHostRefusal, urlHost } from './probeHosts';

const spec = (overrides: object = {}) =>
  experimentSpecSchema.parse({
    name: 'x',
    entityRef: 'component:default/checkout',
    target: { namespace: 'shop', labelSelector: { app: 'checkout' } },
    faults: [{ type: 'pod-kill' }],
    ...overrides,
  });

describe('ceilings', () => {
  it('lets a spec within every ceiling through', () => {
    expect(ceilingIssues(spec(), DEFAULT_CEILINGS)).toEqual([]);
  });

  it('names each field that goes beyond a ceiling', () => {
    const issues = ceilingIssues(
      spec({
        duration: '2h',
        safety: {
          maxBlastRadiusPercent: 80,
          progressiveSteps: [{ selection: { mode: 'one' }, hold: '90m' }],
        },
        faults: [{ type: 'pod-kill' }, { type: 'cpu-stress' }],
        hypothesis: {
          interval: '100ms',
          probes: [
            {
              type: 'http',
              name: 'meta',
              url: 'http://169.254.169.254/latest/meta-data',
              requests: 60,
            },
            {
              type: 'http',
              name: 'api',
              url: 'https://kubernetes.default.svc/api',
              requests: 60,
            },
          ],
        },
      }),
      { ...DEFAULT_CEILINGS, allowedFaultTypes: ['pod-kill'] },
    );
    expect(issues.map(i => i.field)).toEqual([
      'safety.maxBlastRadiusPercent',
      'duration',
      'safety.progressiveSteps',
      'faults.1.type',
      'hypothesis.interval',
      'hypothesis.probes.0.url',
      'hypothesis.probes.1.url',
      'hypothesis.probes',
    ]);
  });

  it('lets a cluster and an entity lower the blast-radius ceiling, never raise it', () => {
    expect(
      effectiveCeilings(DEFAULT_CEILINGS, { clusterMaxBlastRadiusPercent: 20 })
        .maxBlastRadiusPercent,
    ).toBe(20);
    expect(
      effectiveCeilings(DEFAULT_CEILINGS, { entityMaxBlastRadiusPercent: 90 })
        .maxBlastRadiusPercent,
    ).toBe(50);
    expect(
      effectiveCeilings(DEFAULT_CEILINGS, {
        clusterMaxBlastRadiusPercent: 30,
        entityMaxBlastRadiusPercent: 10,
      }).maxBlastRadiusPercent,
    ).toBe(10);
  });
});

describe('probe hosts', () => {
  it.each([
    'http://127.0.0.1/',
    'http://localhost:8080/',
    'http://[::1]/',
    'http://169.254.169.254/',
    'http://[fe80::1]/',
    'http://0x7f.1/',
    'http://2130706433/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:a9fe:a9fe]/',
    'https://kubernetes.default.svc.cluster.local/',
    'http://0.0.0.0/',
    'http://app.localhost./',
  ])('denies %s by default, however it is spelt', url => {
    expect(
      probeHostRefusal(urlHost(url)!, DEFAULT_CEILINGS.probeHosts),
    ).toMatch(/denied/);
  });

  it('allows other hosts unless an allow-list leaves them out; an explicit allow lifts a default denial', () => {
    expect(
      probeHostRefusal('checkout.shop.svc', { allow: [], deny: [] }),
    ).toBeUndefined();
    expect(
      probeHostRefusal('checkout.shop.svc', {
        allow: ['*.payments.svc'],
        deny: [],
      }),
    ).toMatch(/allow-list/);
    expect(
      probeHostRefusal('a.payments.svc', {
        allow: ['*.payments.svc'],
        deny: [],
      }),
    ).toBeUndefined();
    expect(
      probeHostRefusal('127.0.0.1', { allow: ['127.0.0.1/32'], deny: [] }),
    ).toBeUndefined();
    expect(
      probeHostRefusal('10.0.0.5', {
        allow: ['10.0.0.0/8'],
        deny: ['10.0.0.5'],
      }),
    ).toMatch(/denied \(10.0.0.5\)/);
    expect(
      probeHostRefusal('10.1.2.3', { allow: [], deny: [] }, ['10.1.2.3']),
    ).toMatch(/denied/);
    expect(hostMatches('payments.svc', '*.payments.svc')).toBe(false);
  });
});

describe('entity targets', () => {
  const annotations = {
    'backstage.io/kubernetes-namespace': 'shop',
    'backstage.io/kubernetes-label-selector': 'app=checkout,tier in (web,api)',
    'chaoscraft.io/cluster': 'prod',
  };

  it('reads namespace, selector and cluster, and keeps an experiment within them', () => {
    const { target } = readEntityTarget(annotations);
    expect(target).toMatchObject({
      cluster: 'prod',
      namespace: 'shop',
      selectorText: 'app=checkout,tier in (api,web)',
    });
    expect(
      targetIssues(
        { namespace: 'shop', labelSelector: { app: 'checkout', tier: 'web' } },
        target!,
      ),
    ).toEqual([]);
    expect(
      targetIssues(
        { namespace: 'shop', labelSelector: { app: 'payments', tier: 'web' } },
        target!,
      ).map(i => i.field),
    ).toEqual(['target.labelSelector']);
    expect(
      targetIssues(
        { namespace: 'other', labelSelector: { app: 'checkout' } },
        target!,
      ).map(i => i.field),
    ).toEqual(['target.namespace', 'target.labelSelector']);
  });

  it('prefers the label selector to the kubernetes-id, as the Kubernetes plugin does', () => {
    const { target } = readEntityTarget({
      ...annotations,
      'backstage.io/kubernetes-id': 'x',
    });
    expect(target?.selectorText).toBe('app=checkout,tier in (api,web)');
    const byId = readEntityTarget({
      ...annotations,
      'backstage.io/kubernetes-label-selector': '',
      'backstage.io/kubernetes-id': 'x',
    });
    expect(byId.target?.selectorText).toBe('backstage.io/kubernetes-id=x');
  });

  it.each([
    [
      'backstage.io/kubernetes-namespace',
      { 'backstage.io/kubernetes-namespace': undefined },
    ],
    [
      'backstage.io/kubernetes-label-selector',
      { 'backstage.io/kubernetes-label-selector': undefined },
    ],
    [
      'backstage.io/kubernetes-label-selector',
      { 'backstage.io/kubernetes-label-selector': 'app in (' },
    ],
    ['chaoscraft.io/cluster', { 'chaoscraft.io/cluster': undefined }],
    [
      'chaoscraft.io/max-blast-radius-percent',
      { 'chaoscraft.io/max-blast-radius-percent': 'lots' },
    ],
  ])('names %s when it is missing or wrong', (annotation, change) => {
    const merged = Object.fromEntries(
      Object.entries({ ...annotations, ...change }).filter(
        ([, v]) => v !== undefined,
      ),
    ) as Record<string, string>;
    expect(readEntityTarget(merged).problem?.annotation).toBe(annotation);
  });
});
