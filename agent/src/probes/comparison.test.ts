import { formatValue, probeBound, satisfies } from './comparison';

describe('satisfies', () => {
  it.each([
    [0.01, '<', 0.05, true],
    [0.05, '<', 0.05, false],
    [0.05, '<=', 0.05, true],
    [0.06, '>', 0.05, true],
    [0.05, '>=', 0.05, true],
    [1, '==', 1, true],
    [1, '!=', 1, false],
  ] as const)('%p %s %p is %p', (value, comparison, threshold, expected) => {
    expect(satisfies(value, comparison, threshold)).toBe(expected);
  });

  it('never holds for NaN', () => {
    expect(satisfies(NaN, '!=', 1)).toBe(false);
    expect(satisfies(NaN, '<', 1)).toBe(false);
  });
});

describe('probeBound', () => {
  it('reads each probe type its own way', () => {
    expect(
      probeBound({
        type: 'promql',
        name: 'a',
        checkAt: ['during'],
        query: 'up',
        comparison: '<',
        threshold: 0.05,
      }),
    ).toEqual({ comparison: '<', threshold: 0.05 });
    expect(
      probeBound({
        type: 'http',
        name: 'b',
        checkAt: ['during'],
        url: 'http://x/',
        expectedStatus: 200,
        maxLatencyMs: 100,
        requests: 5,
        minSuccessRatio: 0.9,
      }),
    ).toEqual({ comparison: '>=', threshold: 0.9 });
    expect(
      probeBound({
        type: 'k8s',
        name: 'c',
        checkAt: ['during'],
        deployment: 'd',
        minAvailableRatio: 0.5,
      }),
    ).toEqual({ comparison: '>=', threshold: 0.5 });
  });
});

describe('formatValue', () => {
  it('keeps four significant digits', () => {
    expect(formatValue(0.073456)).toBe('0.07346');
    expect(formatValue(3)).toBe('3');
    expect(formatValue(undefined)).toBe('no value');
  });
});
