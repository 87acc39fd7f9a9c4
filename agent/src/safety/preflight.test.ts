import { computeBlastRadius } from '../selection/blastRadius';
import { checkBlastRadius, checkNamespace, checkSpecSupport, DEFAULT_SAFETY_POLICY, SafetyPolicy } from './preflight';

const policy: SafetyPolicy = { ...DEFAULT_SAFETY_POLICY, agentNamespace: 'chaoscraft-system', protectedNamespaces: ['payments'] };
const optedIn = { 'chaoscraft.io/chaos-enabled': 'true' };

describe('checkNamespace', () => {
  it.each(['kube-system', 'kube-public', 'kube-node-lease', 'chaoscraft-system', 'payments'])(
    'refuses the protected namespace %s, even when it opted in',
    namespace => {
      expect(checkNamespace({ runNamespace: namespace, targetNamespace: namespace, targetNamespaceLabels: optedIn }, policy)?.reason).toBe(
        'ProtectedNamespace',
      );
    },
  );

  it('refuses a namespace without the opt-in label, or with it not "true"', () => {
    const labelSets: Array<Record<string, string>> = [{}, { 'chaoscraft.io/chaos-enabled': 'false' }];
    for (const labels of labelSets) {
      const refusal = checkNamespace({ runNamespace: 'shop', targetNamespace: 'shop', targetNamespaceLabels: labels }, policy);
      expect(refusal?.reason).toBe('NamespaceNotOptedIn');
      expect(refusal?.message).toContain('chaoscraft.io/chaos-enabled=true');
    }
  });

  it('honours a configured opt-in label key', () => {
    const custom = { ...policy, optInLabel: 'example.com/chaos' };
    expect(checkNamespace({ runNamespace: 'shop', targetNamespace: 'shop', targetNamespaceLabels: optedIn }, custom)?.reason).toBe(
      'NamespaceNotOptedIn',
    );
    expect(
      checkNamespace({ runNamespace: 'shop', targetNamespace: 'shop', targetNamespaceLabels: { 'example.com/chaos': 'true' } }, custom),
    ).toBeUndefined();
  });

  it('refuses a missing namespace and, by default, a target outside the run namespace', () => {
    expect(checkNamespace({ runNamespace: 'shop', targetNamespace: 'shop', targetNamespaceLabels: undefined }, policy)?.reason).toBe(
      'NamespaceNotFound',
    );
    expect(checkNamespace({ runNamespace: 'a', targetNamespace: 'shop', targetNamespaceLabels: optedIn }, policy)?.reason).toBe(
      'CrossNamespaceTarget',
    );
    expect(
      checkNamespace({ runNamespace: 'a', targetNamespace: 'shop', targetNamespaceLabels: optedIn }, { ...policy, allowCrossNamespaceTargets: true }),
    ).toBeUndefined();
  });

  it('passes an opted-in, unprotected namespace', () => {
    expect(checkNamespace({ runNamespace: 'shop', targetNamespace: 'shop', targetNamespaceLabels: optedIn }, policy)).toBeUndefined();
  });
});

describe('checkBlastRadius', () => {
  it('refuses above the limit with BlastRadiusExceeded and the numbers', () => {
    const refusal = checkBlastRadius(computeBlastRadius(5, 10, 10));
    expect(refusal?.reason).toBe('BlastRadiusExceeded');
    expect(refusal?.message).toContain('5 of 10');
  });

  it('refuses when nothing is eligible, passes within the limit', () => {
    expect(checkBlastRadius(computeBlastRadius(0, 0, 10))?.reason).toBe('NoEligibleTargets');
    expect(checkBlastRadius(computeBlastRadius(3, 10, 50))).toBeUndefined();
  });
});

describe('checkSpecSupport', () => {
  it('refuses fault types without an implementation', () => {
    expect(checkSpecSupport({ faults: [{ type: 'cpu-stress', workers: 1, loadPercent: 100 }] }, t => t === 'pod-kill')?.reason).toBe(
      'UnsupportedFault',
    );
    expect(checkSpecSupport({ faults: [{ type: 'pod-kill', gracePeriodSeconds: 0 }] }, () => true)).toBeUndefined();
  });
});
