import { Registry } from 'prom-client';
import type { ChaosRunResource } from '@chaoscraft/backstage-plugin-chaos-node';
import { registerRunMetrics } from './runMetrics';

const run = (
  name: string,
  status: ChaosRunResource['status'],
  spec?: unknown,
): ChaosRunResource => ({
  metadata: { namespace: 'shop', name },
  spec,
  status,
});

describe('registerRunMetrics', () => {
  it('exports each run in the cache as it is at scrape time, and drops runs that left it', async () => {
    const registry = new Registry();
    let runs: ChaosRunResource[] = [
      run(
        'aborted',
        {
          phase: 'Aborted',
          verdict: 'Failed',
          reason: 'HypothesisViolated',
          abortLatencyMs: 850,
          blastRadius: { selected: 2, eligible: 10, percent: 20, limit: 50 },
          targets: [
            {
              pod: 'a',
              node: 'n1',
              fault: 'pod-kill',
              phase: 'Injected',
              events: [],
            },
            {
              pod: 'b',
              node: 'n1',
              fault: 'pod-kill',
              phase: 'Injected',
              events: [],
            },
            {
              pod: 'c',
              node: 'n2',
              fault: 'pod-kill',
              phase: 'Blocked',
              events: [],
            },
          ],
        },
        { experiment: { name: 'kill-two' } },
      ),
      run('new', undefined),
    ];
    registerRunMetrics(registry, () => runs);

    const text = await registry.metrics();
    expect(text).toContain(
      'chaoscraft_run_info{namespace="shop",run="aborted",phase="Aborted",verdict="Failed",reason="HypothesisViolated",experiment="kill-two"} 1',
    );
    expect(text).toContain(
      'chaoscraft_run_info{namespace="shop",run="new",phase="Pending",verdict="",reason="",experiment=""} 1',
    );
    expect(text).toContain(
      'chaoscraft_run_blast_radius_selected{namespace="shop",run="aborted"} 2',
    );
    expect(text).toContain(
      'chaoscraft_run_blast_radius_eligible{namespace="shop",run="aborted"} 10',
    );
    expect(text).toContain(
      'chaoscraft_run_blast_radius_percent{namespace="shop",run="aborted"} 20',
    );
    expect(text).toContain(
      'chaoscraft_run_blast_radius_limit_percent{namespace="shop",run="aborted"} 50',
    );
    expect(text).toContain(
      'chaoscraft_run_targets{namespace="shop",run="aborted",node="n1",fault="pod-kill",phase="Injected"} 2',
    );
    expect(text).toContain(
      'chaoscraft_run_targets{namespace="shop",run="aborted",node="n2",fault="pod-kill",phase="Blocked"} 1',
    );
    expect(text).toContain(
      'chaoscraft_run_abort_latency_seconds{namespace="shop",run="aborted"} 0.85',
    );
    // A run without a blast radius or an abort latency has no such series.
    expect(text).not.toMatch(
      /chaoscraft_run_blast_radius_selected\{[^}]*run="new"/,
    );
    expect(text).not.toMatch(
      /chaoscraft_run_abort_latency_seconds\{[^}]*run="new"/,
    );

    runs = [
      run('new', {
        phase: 'Running',
        targets: [],
        phaseTransitions: [],
        probes: [],
        steps: [],
        conditions: [],
      }),
    ];
    const later = await registry.metrics();
    expect(later).not.toContain('run="aborted"');
    expect(later).toContain(
      'chaoscraft_run_info{namespace="shop",run="new",phase="Running",verdict="",reason="",experiment=""} 1',
    );
  });
});
