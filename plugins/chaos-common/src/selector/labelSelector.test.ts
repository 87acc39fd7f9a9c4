import fc from 'fast-check';
import {
  LabelRequirement,
  formatLabelSelector,
  matchesLabels,
  parseLabelSelector,
  requirementsFromMatchLabels,
  selectorWithin,
} from './labelSelector';

describe('label selectors', () => {
  it('parses the whole selector syntax', () => {
    expect(
      parseLabelSelector(
        'app=checkout, tier==web,env!=prod,zone in (a, b),team notin (x),canary,!legacy',
      ),
    ).toEqual([
      { key: 'app', operator: 'in', values: ['checkout'] },
      { key: 'tier', operator: 'in', values: ['web'] },
      { key: 'env', operator: 'notin', values: ['prod'] },
      { key: 'zone', operator: 'in', values: ['a', 'b'] },
      { key: 'team', operator: 'notin', values: ['x'] },
      { key: 'canary', operator: 'exists', values: [] },
      { key: 'legacy', operator: 'doesnotexist', values: [] },
    ]);
    expect(parseLabelSelector('example.com/app=x')).toEqual([
      { key: 'example.com/app', operator: 'in', values: ['x'] },
    ]);
    expect(parseLabelSelector('')).toEqual([]);
  });

  it.each([
    'app=a,',
    'app in (a',
    'app in ()',
    'a b',
    '=x',
    'app=a b',
    'App!/x=1',
    'app in (a,,b)',
  ])('refuses %j saying why', text => {
    expect(() => parseLabelSelector(text)).toThrow();
  });

  it('reads an empty value as Kubernetes does', () => {
    expect(parseLabelSelector('app=')).toEqual([
      { key: 'app', operator: 'in', values: [''] },
    ]);
  });

  it('matches as the API server does: notin and != also match a missing label', () => {
    const s = parseLabelSelector('app=checkout,env!=prod,zone notin (z)');
    expect(matchesLabels(s, { app: 'checkout' })).toBe(true);
    expect(matchesLabels(s, { app: 'checkout', env: 'prod' })).toBe(false);
    expect(matchesLabels(s, { app: 'payments' })).toBe(false);
  });

  it('judges containment for the cases owners meet', () => {
    const within = (narrow: string, wide: string) =>
      selectorWithin(parseLabelSelector(narrow), parseLabelSelector(wide)) ===
      undefined;
    expect(within('app=checkout', 'app=checkout')).toBe(true);
    expect(within('app=checkout,tier=web', 'app=checkout')).toBe(true);
    expect(within('app=payments', 'app=checkout')).toBe(false);
    expect(within('tier=web', 'app=checkout')).toBe(false);
    expect(within('app=a', 'app in (a,b)')).toBe(true);
    expect(within('app in (a,c)', 'app in (a,b)')).toBe(false);
    expect(within('app=a', 'app')).toBe(true);
    expect(within('app=a', 'env!=prod')).toBe(false);
    expect(within('app=a,env=dev', 'env!=prod')).toBe(true);
    expect(within('app=a,env notin (prod,stage)', 'env!=prod')).toBe(true);
    expect(within('app=a', '!canary')).toBe(false);
    expect(within('app=a,!canary', '!canary')).toBe(true);
    expect(within('app=a,app=b', 'app=c')).toBe(true); // matches nothing, so it is within anything
  });

  it('names the requirement the narrower selector does not imply', () => {
    const outside = selectorWithin(
      requirementsFromMatchLabels({ app: 'checkout' }),
      parseLabelSelector('app=checkout,tier in (web)'),
    );
    expect(outside && formatLabelSelector([outside])).toBe('tier=web');
  });

  // Properties over a small universe of keys and values, so that random selectors overlap often.
  // `fresh` is a value no selector mentions: with it (and the absent label) a label set can stand
  // for every value outside the finite sets, which makes brute force a complete check.
  const KEYS = ['a', 'b', 'c'];
  const VALUES = ['x', 'y', 'z'];
  const requirement: fc.Arbitrary<LabelRequirement> = fc.oneof(
    fc.record({
      key: fc.constantFrom(...KEYS),
      operator: fc.constantFrom('in' as const, 'notin' as const),
      values: fc
        .uniqueArray(fc.constantFrom(...VALUES), { minLength: 1, maxLength: 3 })
        .map(v => [...v].sort()),
    }),
    fc.record({
      key: fc.constantFrom(...KEYS),
      operator: fc.constantFrom('exists' as const, 'doesnotexist' as const),
      values: fc.constant([] as string[]),
    }),
  );
  const selector = fc.array(requirement, { maxLength: 4 });
  const every: Array<Record<string, string>> = (() => {
    const options = [undefined, ...VALUES, 'fresh'];
    const sets: Array<Record<string, string>> = [];
    for (const a of options)
      for (const b of options)
        for (const c of options) {
          const labels: Record<string, string> = {};
          if (a) labels.a = a;
          if (b) labels.b = b;
          if (c) labels.c = c;
          sets.push(labels);
        }
    return sets;
  })();

  it('is sound and complete: within exactly when every matching label set also matches the wider selector', () => {
    fc.assert(
      fc.property(selector, selector, (narrow, wide) => {
        const bruteForce = every.every(
          labels =>
            !matchesLabels(narrow, labels) || matchesLabels(wide, labels),
        );
        expect(selectorWithin(narrow, wide) === undefined).toBe(bruteForce);
      }),
      { numRuns: 3000 },
    );
  });

  it('round-trips through its text form, and every selector is within itself', () => {
    fc.assert(
      fc.property(selector, s => {
        expect(parseLabelSelector(formatLabelSelector(s))).toEqual(s);
        expect(selectorWithin(s, s)).toBeUndefined();
      }),
    );
  });

  it('never throws anything but a syntax error, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), text => {
        let thrown: unknown;
        try {
          parseLabelSelector(text);
        } catch (error) {
          thrown = error;
        }
        expect(
          thrown === undefined ||
            (thrown as Error).name === 'LabelSelectorSyntaxError',
        ).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
