import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpProbeChecker, guardedLookup } from './http';

// This test server listens on loopback, which probes may reach only when an operator allows it.
const loopbackAllowed = { allow: ['127.0.0.1/32'], deny: [] };

describe('HttpProbeChecker', () => {
  let server: http.Server;
  let url: string;
  let inFlight = 0;
  let maxInFlight = 0;
  let count = 0;

  beforeAll(async () => {
    // Every third request fails with 503; /slow never answers in time.
    server = http.createServer((req, res) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const done = (status: number) => {
        inFlight -= 1;
        res.statusCode = status;
        res.end('x');
      };
      if (req.url === '/slow') {
        setTimeout(() => done(200), 2_000);
        return;
      }
      count += 1;
      const status = count % 3 === 0 ? 503 : 200;
      setTimeout(() => done(status), 5);
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>(resolve => server.close(() => resolve())));

  const probe = (
    path: string,
    minSuccessRatio: number,
    maxLatencyMs = 2000,
  ) => ({
    type: 'http' as const,
    name: 'home',
    checkAt: ['during' as const],
    url: `${url}${path}`,
    expectedStatus: 200,
    maxLatencyMs,
    requests: 12,
    minSuccessRatio,
  });

  it('measures the success ratio with bounded concurrency and names the failures', async () => {
    const result = await new HttpProbeChecker({
      concurrency: 3,
      hosts: loopbackAllowed,
    }).check(probe('/', 0.5), { namespace: 'n', phase: 'during' });
    expect(result.value).toBeCloseTo(8 / 12);
    expect(result.ok).toBe(true);
    expect(result.error).toBe('4 of 12 requests failed: 4× HTTP 503');
    expect(maxInFlight).toBeLessThanOrEqual(3);
  });

  it('cuts off requests at maxLatencyMs and counts them as failures', async () => {
    const started = Date.now();
    const result = await new HttpProbeChecker({
      concurrency: 12,
      hosts: loopbackAllowed,
    }).check(probe('/slow', 0.5, 100), { namespace: 'n', phase: 'during' });
    // The slow endpoint answers after 2 s: ending well before it means the cut-off worked (12
    // requests in parallel, each cut at 100 ms; the slack is for a loaded 2-core machine).
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(result).toEqual({
      ok: false,
      value: 0,
      error: '12 of 12 requests failed: 12× timeout after 100 ms',
    });
  });

  it('refuses loopback, link-local and the API server by default, before sending anything', async () => {
    const before = count + inFlight;
    const checker = new HttpProbeChecker({ extraDeniedHosts: ['10.96.0.1'] });
    for (const target of [
      url,
      'http://localhost:1/',
      'http://169.254.169.254/latest/',
      'http://[::ffff:127.0.0.1]/',
      'http://0x7f.0.0.1/',
      'https://kubernetes.default.svc/',
      'https://10.96.0.1/',
    ]) {
      const result = await checker.check(
        { ...probe('/', 1), url: target },
        { namespace: 'n', phase: 'before' },
      );
      expect(result).toEqual({
        ok: false,
        error: expect.stringMatching(/^probe refused: host .* is denied/),
      });
    }
    expect(count + inFlight).toBe(before);
  });

  it('refuses a name that resolves to a denied address, at connect time', async () => {
    const lookup = guardedLookup({ allow: [], deny: [] }, []);
    const error = await new Promise<Error | null>(resolve =>
      lookup('localhost', {}, e => resolve(e)),
    );
    expect(error?.message).toMatch(
      /localhost resolves to (127\.0\.0\.1|::1): host .* is denied by default/,
    );
    const allowed = guardedLookup(
      { allow: ['127.0.0.0/8', '::1'], deny: [] },
      [],
    );
    const ok = await new Promise<string>((resolve, reject) =>
      allowed('localhost', {}, (e, address) =>
        e ? reject(e) : resolve(String(address)),
      ),
    );
    expect(ok).toMatch(/^(127\.0\.0\.1|::1)$/);
  });

  it("obeys an operator's allow-list and deny-list", async () => {
    const denied = await new HttpProbeChecker({
      hosts: { allow: ['127.0.0.1'], deny: ['127.0.0.1'] },
    }).check(probe('/', 1), { namespace: 'n', phase: 'during' });
    expect(denied.error).toMatch(/denied \(127.0.0.1\)/);
    const elsewhere = await new HttpProbeChecker({
      hosts: { allow: ['*.shop.svc'], deny: [] },
    }).check(
      { ...probe('/', 1), url: 'http://10.1.2.3/' },
      { namespace: 'n', phase: 'during' },
    );
    expect(elsewhere.error).toMatch(/not on the probe host allow-list/);
  });
});
