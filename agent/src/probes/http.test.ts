import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpProbeChecker } from './http';

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
        setTimeout(() => done(200), 300);
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

  const probe = (path: string, minSuccessRatio: number, maxLatencyMs = 2000) => ({
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
    const result = await new HttpProbeChecker({ concurrency: 3 }).check(probe('/', 0.5), { namespace: 'n', phase: 'during' });
    expect(result.value).toBeCloseTo(8 / 12);
    expect(result.ok).toBe(true);
    expect(result.error).toBe('4 of 12 requests failed: 4× HTTP 503');
    expect(maxInFlight).toBeLessThanOrEqual(3);
  });

  it('cuts off requests at maxLatencyMs and counts them as failures', async () => {
    const started = Date.now();
    const result = await new HttpProbeChecker({ concurrency: 12 }).check(probe('/slow', 0.5, 100), { namespace: 'n', phase: 'during' });
    expect(Date.now() - started).toBeLessThan(280);
    expect(result).toEqual({ ok: false, value: 0, error: '12 of 12 requests failed: 12× timeout after 100 ms' });
  });
});
