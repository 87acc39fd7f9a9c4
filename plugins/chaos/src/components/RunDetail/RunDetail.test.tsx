import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { setupServer } from 'msw/node';
import {
  TestApiProvider,
  mockApis,
  registerMswTestHooks,
  renderInTestApp,
} from '@backstage/frontend-test-utils';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import { catalogApiRef, entityRouteRef } from '@backstage/plugin-catalog-react';
import { signalApiRef } from '@backstage/plugin-signals-react';
import { runSignalChannel } from '@chaoscraft/backstage-plugin-chaos-common';
import { act } from '@testing-library/react';
import { testCatalog } from '../../api/__testUtils__/fakeCatalog';
import { fakeSignals } from '../../api/__testUtils__/fakeSignals';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { chaosApiRef } from '../../api';
import {
  ABORT_MESSAGE,
  ABORT_REASON,
  aRunDetail,
  anExperiment,
  at,
  fakeChaosBackend,
  progression,
  testChaosClient,
} from '../../api/__testUtils__/fakeChaosBackend';
import { RunDetail } from './RunDetail';
import { injectionWindow } from './injectionWindow';

// jsdom has no ResizeObserver, so recharts' ResponsiveContainer keeps its initial size and draws.
const server = setupServer();
registerMswTestHooks(server);

const FAST = { minMs: 5, maxMs: 20 };

// The first render of the test app warms up MUI, recharts and the app's plugins.
jest.setTimeout(30_000);

function renderRun(
  runId: string,
  authorize:
    | AuthorizeResult.ALLOW
    | AuthorizeResult.DENY = AuthorizeResult.ALLOW,
  signals?: ReturnType<typeof fakeSignals>,
) {
  return renderInTestApp(
    <TestApiProvider
      apis={[
        [chaosApiRef, testChaosClient()],
        [permissionApiRef, mockApis.permission({ authorize })],
        [catalogApiRef, testCatalog()],
        ...(signals ? [[signalApiRef, signals.api] as const] : []),
      ]}
    >
      <RunDetail runId={runId} pollIntervals={FAST} />
    </TestApiProvider>,
    { mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef } },
  );
}

describe('RunDetail', () => {
  it('shows a finished run: phase, verdict, blast radius, timeline, targets and probe charts', async () => {
    fakeChaosBackend(server, {
      experiments: [anExperiment()],
      runs: [aRunDetail()],
    });
    await renderRun('run-1');

    expect(await screen.findByTestId('run-phase')).toHaveTextContent(
      'Completed',
    );
    expect(
      await screen.findByRole('heading', { name: 'Run of kill-one' }),
    ).toBeInTheDocument();
    for (const name of [
      'Blast radius',
      'Phase timeline',
      'Targets',
      'Steady-state probes',
    ]) {
      expect(screen.getByRole('heading', { name })).toBeInTheDocument();
    }

    const verdict = screen.getByTestId('run-verdict');
    expect(within(verdict).getByText('Passed')).toBeInTheDocument();
    expect(
      within(verdict).getByText('Every probe held during and after the faults'),
    ).toBeInTheDocument();

    expect(
      screen.getByText('3 of 10 pods (30%) · limit 50%'),
    ).toBeInTheDocument();
    expect(
      screen.getByRole('progressbar', { name: 'Blast radius' }),
    ).toHaveAttribute('aria-valuenow', '30');

    const targets = screen.getByRole('table', { name: 'Targets' });
    for (const pod of [
      'checkout-7d9f-a',
      'checkout-7d9f-b',
      'checkout-7d9f-c',
    ]) {
      const row = within(targets).getByText(pod).closest('tr')!;
      expect(within(row).getByText('Recovered')).toBeInTheDocument();
      expect(within(row).getByText('pod-kill')).toBeInTheDocument();
    }

    const timeline = screen.getByRole('list', { name: 'Phase timeline' });
    const phases = within(timeline)
      .getAllByRole('listitem')
      .map(li => li.querySelector('strong')?.textContent);
    expect(phases).toEqual([
      'Pending',
      'Preflight',
      'Injecting',
      'Running',
      'RollingBack',
      'Completed',
    ]);
    expect(
      within(timeline).getByText(
        'Checking: namespace opted in, 10 pods eligible',
      ),
    ).toBeInTheDocument();

    const chart = screen.getByRole('figure', {
      name: 'Samples of probe p99-latency',
    });
    expect(
      within(chart).getByText(/healthy when value < 500/),
    ).toBeInTheDocument();
    await waitFor(() =>
      expect(chart.querySelector('.recharts-line')).not.toBeNull(),
    );
    expect(chart.querySelector('.recharts-reference-line')).not.toBeNull();
    expect(chart.querySelector('.recharts-reference-area')).not.toBeNull();

    // A finished run cannot be aborted.
    expect(
      screen.queryByRole('button', { name: 'Abort' }),
    ).not.toBeInTheDocument();
  });

  it('shows a refused run in red with the reason, and says when there are no probes', async () => {
    fakeChaosBackend(server, {
      runs: [
        aRunDetail({
          phase: 'Failed',
          verdict: 'Refused',
          reason: 'BlastRadiusExceeded',
          message: 'selecting 6 of 10 pods (60%) exceeds the limit of 50%',
          blastRadius: { selected: 6, eligible: 10, percent: 60, limit: 50 },
          targets: [],
          probes: [],
          timeline: [
            { time: at(0), phase: 'Pending' },
            { time: at(1), phase: 'Preflight' },
            {
              time: at(2),
              phase: 'Failed',
              reason: 'BlastRadiusExceeded',
              message: 'selecting 6 of 10 pods (60%) exceeds the limit of 50%',
            },
          ],
        }),
      ],
    });
    await renderRun('run-1');

    const alert = await screen.findByRole('alert');
    expect(within(alert).getByText('Refused')).toBeInTheDocument();
    expect(within(alert).getByText('BlastRadiusExceeded')).toBeInTheDocument();
    expect(
      within(alert).getByText(
        'selecting 6 of 10 pods (60%) exceeds the limit of 50%',
      ),
    ).toBeInTheDocument();
    expect(screen.getByTestId('run-phase')).toHaveTextContent('Failed');
    expect(
      screen.getByText('6 of 10 pods (60%) · limit 50%'),
    ).toBeInTheDocument();
    expect(screen.getByText(/No probes/)).toBeInTheDocument();
    expect(screen.getByText('No targets selected.')).toBeInTheDocument();
    // The run keeps the experiment's name, even once the experiment is deleted.
    expect(
      screen.getByRole('heading', { name: 'Run of kill-one' }),
    ).toBeInTheDocument();
  });

  it('shows the steps a progressive run reached and how fast it rolled back', async () => {
    const step = (
      index: number,
      selected: number,
      result: 'Passed' | 'Failed',
    ) => ({
      index,
      blastRadius: {
        selected,
        eligible: 10,
        percent: selected * 10,
        limit: 30,
      },
      startedAt: at(index * 10),
      injectedAt: at(index * 10 + 1),
      finishedAt: at(index * 10 + 10),
      result,
    });
    fakeChaosBackend(server, {
      runs: [
        aRunDetail({
          phase: 'Aborted',
          verdict: 'Failed',
          reason: 'ProgressiveStepFailed',
          message:
            'progressive step 2 of 3 (2 of 10 pods, 20%) failed its gate',
          steps: [step(0, 1, 'Passed'), step(1, 2, 'Failed')],
          abortLatencyMs: 85,
        }),
      ],
    });
    await renderRun('run-1');

    const table = await screen.findByRole('table', {
      name: 'Progressive steps',
    });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(
      rows.map(row =>
        within(row)
          .getAllByRole('cell')
          .map(cell => cell.textContent),
      ),
    ).toEqual([
      [
        '1 of 2',
        '1 of 10 pods (10%)',
        expect.any(String),
        expect.any(String),
        'Passed',
      ],
      [
        '2 of 2',
        '2 of 10 pods (20%)',
        expect.any(String),
        expect.any(String),
        'Failed',
      ],
    ]);
    expect(
      within(screen.getByRole('alert')).getByText(
        /rolled back 85 ms after the first failing probe sample/,
      ),
    ).toBeInTheDocument();
  });

  it('shows no steps table for a run without progressive steps', async () => {
    fakeChaosBackend(server, { runs: [aRunDetail()] });
    await renderRun('run-1');
    await screen.findByTestId('run-phase');
    expect(
      screen.queryByRole('table', { name: 'Progressive steps' }),
    ).not.toBeInTheDocument();
  });

  it('polls a live run until it is terminal, then stops', async () => {
    const backend = fakeChaosBackend(server);
    backend.addRun(
      progression(aRunDetail(), [
        'Pending',
        'Preflight',
        'Injecting',
        'Running',
        'RollingBack',
        'Completed',
      ]),
    );
    await renderRun('run-1');

    await screen.findByTestId('run-phase');
    await waitFor(() =>
      expect(screen.getByTestId('run-phase')).toHaveTextContent('Completed'),
    );
    expect(screen.getByText('Passed')).toBeInTheDocument();

    const gets = backend.runGets.get('run-1');
    expect(gets).toBe(6);
    await new Promise(resolve => setTimeout(resolve, 100));
    expect(backend.runGets.get('run-1')).toBe(gets);
  });

  it('reads a live run on each signal and grows its probe chart, with no polling in between', async () => {
    const backend = fakeChaosBackend(server);
    const base = aRunDetail();
    const withSamples = (n: number, phase: 'Running' | 'Completed') => ({
      ...base,
      phase,
      verdict: phase === 'Completed' ? base.verdict : undefined,
      finishedAt: phase === 'Completed' ? at(60) : undefined,
      probes: [
        { ...base.probes[0], samples: base.probes[0].samples.slice(0, n) },
      ],
    });
    backend.addRun([
      withSamples(1, 'Running'),
      withSamples(2, 'Running'),
      withSamples(4, 'Running'),
      withSamples(6, 'Completed'),
    ]);
    const signals = fakeSignals();
    await renderRun('run-1', AuthorizeResult.ALLOW, signals);

    const chart = await screen.findByRole('figure', {
      name: 'Samples of probe p99-latency',
    });
    expect(chart).toHaveTextContent('1 sample, 0 failing');
    expect(screen.getByTestId('run-live')).toHaveTextContent(
      'changes are pushed',
    );
    await waitFor(() =>
      expect(signals.subscribers(runSignalChannel('run-1'))).toBe(1),
    );
    // Signals drive the reads: without one, nothing is read again (polling is down to a safety net).
    await new Promise(resolve => setTimeout(resolve, 150));
    expect(backend.runGets.get('run-1')).toBe(1);

    for (const [count, text] of [
      [2, '2 samples'],
      [3, '4 samples'],
      [4, '6 samples'],
    ] as const) {
      act(() => signals.publish(runSignalChannel('run-1'), { runId: 'run-1' }));
      await waitFor(() =>
        expect(
          screen.getByRole('figure', { name: 'Samples of probe p99-latency' }),
        ).toHaveTextContent(text),
      );
      expect(backend.runGets.get('run-1')).toBe(count);
    }
    expect(screen.getByTestId('run-phase')).toHaveTextContent('Completed');
    expect(screen.queryByTestId('run-live')).not.toBeInTheDocument();
  });

  it('lists who depends on the entity, and their owners, from the catalog graph', async () => {
    fakeChaosBackend(server, { runs: [aRunDetail()] });
    await renderRun('run-1');
    const table = await screen.findByRole('table', { name: 'Dependents' });
    const rows = within(table)
      .getAllByRole('row')
      .slice(1)
      .map(row =>
        within(row)
          .getAllByRole('cell')
          .map(c => c.textContent),
      );
    expect(rows).toEqual([
      ['orders', 'directly', 'team-orders'],
      ['storefront', 'consumes checkout-api', 'team-web'],
    ]);
  });

  it('backs off while a live run does not change', async () => {
    const backend = fakeChaosBackend(server, {
      runs: [aRunDetail({ phase: 'Running', verdict: undefined })],
    });
    await renderRun('run-1');
    await screen.findByTestId('run-phase');
    expect(screen.getByText(/no verdict yet/)).toBeInTheDocument();
    await new Promise(resolve => setTimeout(resolve, 300));
    // Every 5 ms would be ~60 requests; doubling to 20 ms keeps it near 300 / 20.
    expect(backend.runGets.get('run-1')).toBeLessThan(25);
    expect(backend.runGets.get('run-1')).toBeGreaterThan(3);
  });

  it('aborts a live run, then follows it to Aborted', async () => {
    const backend = fakeChaosBackend(server, {
      runs: [aRunDetail({ phase: 'Running', verdict: undefined })],
    });
    await renderRun('run-1');

    await userEvent.click(await screen.findByRole('button', { name: 'Abort' }));
    await waitFor(() =>
      expect(screen.getByTestId('run-phase')).toHaveTextContent('Aborted'),
    );
    expect(backend.aborted).toEqual(['run-1']);
    expect(
      screen.queryByRole('button', { name: 'Abort' }),
    ).not.toBeInTheDocument();
    // The agent's own reason and message for an abort, in the verdict and the timeline.
    expect(
      within(screen.getByTestId('run-verdict')).getByText(ABORT_REASON),
    ).toBeInTheDocument();
    expect(
      within(screen.getByTestId('run-verdict')).getByText(ABORT_MESSAGE),
    ).toBeInTheDocument();
    expect(
      within(screen.getByRole('list', { name: 'Phase timeline' })).getAllByText(
        `${ABORT_REASON}: ${ABORT_MESSAGE}`,
      ),
    ).toHaveLength(2);
  });

  it('disables Abort for people who do not own the entity', async () => {
    // Another entity than in the other tests: usePermission caches decisions per resource.
    const backend = fakeChaosBackend(server, {
      runs: [
        aRunDetail({
          phase: 'Running',
          verdict: undefined,
          entityRef: 'component:default/payments',
        }),
      ],
    });
    await renderRun('run-1', AuthorizeResult.DENY);
    await waitFor(() =>
      expect(screen.getByRole('button', { name: 'Abort' })).toBeDisabled(),
    );
    expect(backend.aborted).toEqual([]);
  });

  it('shows the error when the run does not exist', async () => {
    fakeChaosBackend(server);
    await renderRun('nope');
    expect(
      (await screen.findAllByText(/No run with id nope/)).length,
    ).toBeGreaterThan(0);
  });
});

describe('injectionWindow', () => {
  it('spans from the first Injecting to RollingBack', () => {
    expect(injectionWindow(aRunDetail().timeline)).toEqual({
      start: Date.parse(at(8)),
      end: Date.parse(at(40)),
    });
  });

  it('is open while faults are still active, and absent when nothing was injected', () => {
    expect(injectionWindow([{ time: at(1), phase: 'Running' }])).toEqual({
      start: Date.parse(at(1)),
      end: undefined,
    });
    expect(
      injectionWindow([
        { time: at(1), phase: 'Preflight' },
        { time: at(2), phase: 'Failed' },
      ]),
    ).toBeUndefined();
  });
});
