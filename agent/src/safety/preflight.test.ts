import { computeBlastRadius } from '../selection/blastRadius';
import {
  chaosRunSpecSchema,
  DEFAULT_CEILINGS,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { parseControllerArgs } from '../controllerArgs';
import {
  checkBlastRadius,
  checkCeilings,
  checkNamespace,
  checkSpecSupport,
  DEFAULT_SAFETY_POLICY,
  SafetyPolicy,
} from './preflight';

const policy: SafetyPolicy = {
  ...DEFAULT_SAFETY_POLICY,
  agentNamespace: 'chaoscraft-system',
  protectedNamespaces: ['payments'],
};
const optedIn = { 'chaoscraft.io/chaos-enabled': 'true' };

describe('checkNamespace', () => {
  it.each([
    'kube-system',
    'kube-public',
    'kube-node-lease',
    'chaoscraft-system',
    'payments',
  ])('refuses the protected namespace %s, even when it opted in', namespace => {
    expect(
      checkNamespace(
        {
          runNamespace: namespace,
          targetNamespace: namespace,
          targetNamespaceLabels: optedIn,
        },
        policy,
      )?.reason,
    ).toBe('ProtectedNamespace');
  });

  it('refuses a namespace without the opt-in label, or with it not "true"', () => {
    const labelSets: Array<Record<string, string>> = [
      {},
      { 'chaoscraft.io/chaos-enabled': 'false' },
    ];
    for (const labels of labelSets) {
      const refusal = checkNamespace(
        {
          runNamespace: 'shop',
          targetNamespace: 'shop',
          targetNamespaceLabels: labels,
        },
        policy,
      );
      expect(refusal?.reason).toBe('NamespaceNotOptedIn');
      expect(refusal?.message).toContain('chaoscraft.io/chaos-enabled=true');
    }
  });

  it('honours a configured opt-in label key', () => {
    const custom = { ...policy, optInLabel: 'example.com/chaos' };
    expect(
      checkNamespace(
        {
          runNamespace: 'shop',
          targetNamespace: 'shop',
          targetNamespaceLabels: optedIn,
        },
        custom,
      )?.reason,
    ).toBe('NamespaceNotOptedIn');
    expect(
      checkNamespace(
        {
          runNamespace: 'shop',
          targetNamespace: 'shop',
          targetNamespaceLabels: { 'example.com/chaos': 'true' },
        },
        custom,
      ),
    ).toBeUndefined();
  });

  it('refuses a missing namespace and, by default, a target outside the run namespace', () => {
    expect(
      checkNamespace(
        {
          runNamespace: 'shop',
          targetNamespace: 'shop',
          targetNamespaceLabels: undefined,
        },
        policy,
      )?.reason,
    ).toBe('NamespaceNotFound');
    expect(
      checkNamespace(
        {
          runNamespace: 'a',
          targetNamespace: 'shop',
          targetNamespaceLabels: optedIn,
        },
        policy,
      )?.reason,
    ).toBe('CrossNamespaceTarget');
    expect(
      checkNamespace(
        {
          runNamespace: 'a',
          targetNamespace: 'shop',
          targetNamespaceLabels: optedIn,
        },
        { ...policy, allowCrossNamespaceTargets: true },
      ),
    ).toBeUndefined();
  });

  it('passes an opted-in, unprotected namespace', () => {
    expect(
      checkNamespace(
        {
          runNamespace: 'shop',
          targetNamespace: 'shop',
          targetNamespaceLabels: optedIn,
        },
        policy,
      ),
    ).toBeUndefined();
  });
});

describe('checkBlastRadius', () => {
  it('refuses above the limit with BlastRadiusExceeded and the numbers', () => {
    const refusal = checkBlastRadius(computeBlastRadius(5, 10, 10));
    expect(refusal?.reason).toBe('BlastRadiusExceeded');
    expect(refusal?.message).toContain('5 of 10');
  });

  it('refuses when nothing is eligible, passes within the limit', () => {
    expect(checkBlastRadius(computeBlastRadius(0, 0, 10))?.reason).toBe(
      'NoEligibleTargets',
    );
    expect(checkBlastRadius(computeBlastRadius(3, 10, 50))).toBeUndefined();
  });
});

describe('checkSpecSupport', () => {
  it('refuses fault types without an implementation', () => {
    expect(
      checkSpecSupport(
        { faults: [{ type: 'cpu-stress', workers: 1, loadPercent: 100 }] },
        t => t === 'pod-kill',
      )?.reason,
    ).toBe('UnsupportedFault');
    expect(
      checkSpecSupport(
        { faults: [{ type: 'pod-kill', gracePeriodSeconds: 0 }] },
        () => true,
      ),
    ).toBeUndefined();
  });
});

describe('checkCeilings', () => {
  const spec = (extra: object = {}) =>
    chaosRunSpecSchema.parse({
      target: { namespace: 'shop', labelSelector: { app: 'checkout' } },
      faults: [{ type: 'pod-kill' }],
      ...extra,
    });

  it('lets a run within the ceilings through, with the defaults when none are configured', () => {
    expect(checkCeilings(spec(), policy)).toBeUndefined();
  });

  it("refuses a kubectl ChaosRun beyond the operator's flags, naming each spec field", () => {
    const config = parseControllerArgs([
      '--max-blast-radius-percent',
      '20',
      '--max-duration',
      '5m',
      '--allowed-fault-types',
      'pod-kill',
      '--min-probe-interval',
      '5s',
      '--probe-allowed-hosts',
      '*.shop.svc',
      '--probe-denied-hosts',
      '10.0.0.0/8',
    ]);
    const refusal = checkCeilings(
      spec({
        duration: '10m',
        safety: { maxBlastRadiusPercent: 30 },
        faults: [{ type: 'network-loss', lossPercent: 5 }],
        hypothesis: {
          interval: '1s',
          probes: [
            { type: 'http', name: 'a', url: 'http://checkout.payments.svc/' },
            { type: 'http', name: 'b', url: 'http://169.254.169.254/' },
          ],
        },
      }),
      { ceilings: config.ceilings, apiServerHosts: [] },
    );
    expect(refusal?.reason).toBe('CeilingExceeded');
    for (const field of [
      'spec.safety.maxBlastRadiusPercent',
      'spec.duration',
      'spec.faults.0.type',
      'spec.hypothesis.interval',
      'spec.hypothesis.probes.0.url: host checkout.payments.svc is not on the probe host allow-list',
      'spec.hypothesis.probes.1.url: host 169.254.169.254 is denied',
    ]) {
      expect(refusal?.message).toContain(field);
    }
  });

  it("denies the API server's address given by the controller", () => {
    const refusal = checkCeilings(
      spec({
        hypothesis: {
          probes: [{ type: 'http', name: 'a', url: 'https://10.96.0.1/api' }],
        },
      }),
      { ceilings: DEFAULT_CEILINGS, apiServerHosts: ['10.96.0.1'] },
    );
    expect(refusal?.message).toContain('host 10.96.0.1 is denied');
  });

  it('refuses malformed ceiling flags', () => {
    expect(() =>
      parseControllerArgs(['--allowed-fault-types', 'pod-kill,rm-rf']),
    ).toThrow(/unknown fault type/);
    expect(() => parseControllerArgs(['--probe-allowed-hosts', 'a b'])).toThrow(
      /not a host name/,
    );
    expect(() =>
      parseControllerArgs(['--max-blast-radius-percent', '0']),
    ).toThrow(/from 1 to 100/);
  });
});
