import { DEFAULT_API_RATE_LIMIT } from '@chaoscraft/backstage-plugin-chaos-node';
import { parseControllerArgs } from './controllerArgs';

describe('the controller client rate-limit flags', () => {
  it('defaults to 50 QPS and a burst of 100, not client-go 5/10', () => {
    expect(parseControllerArgs([]).kubeRateLimit).toEqual({
      qps: 50,
      burst: 100,
    });
    expect(DEFAULT_API_RATE_LIMIT).toEqual({ qps: 50, burst: 100 });
  });

  it('reads --kube-qps and --kube-burst, each on its own, 0 QPS meaning no client-side limit', () => {
    expect(
      parseControllerArgs(['--kube-qps', '200', '--kube-burst=400'])
        .kubeRateLimit,
    ).toEqual({ qps: 200, burst: 400 });
    expect(parseControllerArgs(['--kube-qps=12.5']).kubeRateLimit).toEqual({
      qps: 12.5,
      burst: 100,
    });
    expect(parseControllerArgs(['--kube-burst', '7']).kubeRateLimit).toEqual({
      qps: 50,
      burst: 7,
    });
    expect(parseControllerArgs(['--kube-qps', '0']).kubeRateLimit).toEqual({
      qps: 0,
      burst: 100,
    });
  });

  it('refuses a bad value, naming the flag', () => {
    expect(() => parseControllerArgs(['--kube-qps', 'fast'])).toThrow(
      /--kube-qps/,
    );
    expect(() => parseControllerArgs(['--kube-qps', '-1'])).toThrow(
      /--kube-qps/,
    );
    expect(() => parseControllerArgs(['--kube-burst', '0'])).toThrow(
      /--kube-burst/,
    );
    expect(() => parseControllerArgs(['--kube-burst', '2.5'])).toThrow(
      /--kube-burst/,
    );
  });
});
