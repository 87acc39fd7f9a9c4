import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PromqlProbeChecker, readSingleValue } from './promql';

describe('readSingleValue', () => {
  const vector = (...values: string[]) => ({
    status: 'success' as const,
    data: {
      resultType: 'vector' as const,
      result: values.map((v, i) => ({
        metric: { job: `j${i}` },
        value: [1, v],
      })),
    },
  });

  it('reads a one-series vector and a scalar', () => {
    expect(readSingleValue(vector('0.25'))).toEqual({ value: 0.25 });
    expect(
      readSingleValue({
        status: 'success',
        data: { resultType: 'scalar', result: [1, '3'] },
      }),
    ).toEqual({ value: 3 });
    expect(readSingleValue(vector('+Inf'))).toEqual({ value: Infinity });
  });

  it('calls no data and several series errors, naming the series', () => {
    expect(readSingleValue(vector()).error).toMatch(/no data/);
    const many = readSingleValue(vector('1', '2'));
    expect(many.error).toMatch(
      /2 series \(\{job="j0"\}, \{job="j1"\}\).*sum\(\)/,
    );
  });

  it('calls NaN and Prometheus errors errors', () => {
    expect(readSingleValue(vector('NaN')).error).toMatch(/NaN/);
    expect(
      readSingleValue({
        status: 'error',
        errorType: 'bad_data',
        error: 'parse error',
      }).error,
    ).toBe('Prometheus error (bad_data): parse error');
  });
});

/** A stand-in for Prometheus' query endpoint that answers whatever value the test sets. */
async function fakePrometheus(): Promise<{
  url: string;
  set(v: string): void;
  close(): Promise<void>;
}> {
  let value = '0';
  const server = http.createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(
      JSON.stringify({
        status: 'success',
        data: {
          resultType: 'vector',
          result: [{ metric: {}, value: [0, value] }],
        },
      }),
    );
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    set: v => {
      value = v;
    },
    close: () => new Promise(resolve => server.close(() => resolve())),
  };
}

describe('PromqlProbeChecker', () => {
  const probe = {
    type: 'promql' as const,
    name: 'error-rate',
    checkAt: ['before' as const, 'during' as const],
    query: 'x',
    comparison: '<' as const,
    threshold: 0.05,
    for: '10s',
  };

  it('counts a violation only once it has lasted `for`, and only during the run', async () => {
    const prom = await fakePrometheus();
    try {
      let clock = 1_000_000;
      const checker = new PromqlProbeChecker();
      const ctx = { namespace: 'n', prometheusUrl: prom.url, now: () => clock };
      prom.set('0.2');
      // Before injection there is no grace window.
      expect(await checker.check(probe, { ...ctx, phase: 'before' })).toEqual({
        ok: false,
        value: 0.2,
      });
      expect(await checker.check(probe, { ...ctx, phase: 'during' })).toEqual({
        ok: true,
        value: 0.2,
        pending: true,
      });
      clock += 9_999;
      expect(
        await checker.check(probe, { ...ctx, phase: 'during' }),
      ).toMatchObject({ ok: true, pending: true });
      clock += 1;
      expect(await checker.check(probe, { ...ctx, phase: 'during' })).toEqual({
        ok: false,
        value: 0.2,
      });
      // A good sample resets the window.
      prom.set('0.01');
      expect(await checker.check(probe, { ...ctx, phase: 'during' })).toEqual({
        ok: true,
        value: 0.01,
      });
      prom.set('0.2');
      clock += 60_000;
      expect(
        await checker.check(probe, { ...ctx, phase: 'during' }),
      ).toMatchObject({ ok: true, pending: true });
    } finally {
      await prom.close();
    }
  });

  it('reports an unreachable Prometheus and a missing URL as errors', async () => {
    const checker = new PromqlProbeChecker({ queryTimeoutMs: 1000 });
    const noUrl = await checker.check(probe, {
      namespace: 'n',
      phase: 'before',
    });
    expect(noUrl).toEqual({
      ok: false,
      error: expect.stringMatching(/--prometheus-url/),
    });
    const down = await checker.check(probe, {
      namespace: 'n',
      phase: 'before',
      prometheusUrl: 'http://127.0.0.1:1',
    });
    expect(down).toEqual({
      ok: false,
      error: expect.stringMatching(/Prometheus query failed/),
    });
  });
});
