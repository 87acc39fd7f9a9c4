import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { setupServer } from 'msw/node';
import {
  TestApiProvider,
  registerMswTestHooks,
  renderInTestApp,
} from '@backstage/frontend-test-utils';
import { chaosApiRef } from '../../api';
import {
  aRunDetail,
  at,
  fakeChaosBackend,
  testChaosClient,
} from '../../api/__testUtils__/fakeChaosBackend';
import { signalApiRef } from '@backstage/plugin-signals-react';
import { entityRunsSignalChannel } from '@chaoscraft/backstage-plugin-chaos-common';
import { fakeSignals } from '../../api/__testUtils__/fakeSignals';
import { RunHistory } from './RunHistory';

const server = setupServer();
registerMswTestHooks(server);
jest.setTimeout(30_000);

const ENTITY = 'component:default/checkout';

function renderHistory(signals?: ReturnType<typeof fakeSignals>) {
  return renderInTestApp(
    <TestApiProvider
      apis={[
        [chaosApiRef, testChaosClient()],
        ...(signals ? [[signalApiRef, signals.api] as const] : []),
      ]}
    >
      <RunHistory entityRef={ENTITY} />
    </TestApiProvider>,
  );
}

describe('RunHistory', () => {
  it('says so when there are no runs', async () => {
    fakeChaosBackend(server);
    await renderHistory();
    expect(await screen.findByText('No runs yet')).toBeInTheDocument();
    expect(
      screen.getByRole('heading', { name: 'Run history' }),
    ).toBeInTheDocument();
  });

  it('pages through the runs, newest first, with phase, verdict and blast radius', async () => {
    const runs = Array.from({ length: 23 }, (_, i) =>
      aRunDetail({
        id: `run-${i + 1}`,
        createdAt: at(i * 60),
        startedAt: at(i * 60),
        verdict: i % 2 ? 'Failed' : 'Passed',
        blastRadius: {
          selected: (i % 9) + 1,
          eligible: 10,
          percent: ((i % 9) + 1) * 10,
          limit: 50,
        },
      }),
    );
    fakeChaosBackend(server, { runs });
    await renderHistory();

    const table = await screen.findByRole('table', { name: 'Runs' });
    let rows = within(table).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(10);
    // Newest first: run-23 started last (i = 22: 5 of 10, verdict Passed).
    expect(within(rows[0]).getByText('Completed')).toBeInTheDocument();
    expect(within(rows[0]).getByText('Passed')).toBeInTheDocument();
    expect(within(rows[0]).getByText('5 of 10 pods (50%)')).toBeInTheDocument();
    expect(within(rows[0]).getByText('kill-one')).toBeInTheDocument();
    expect(within(rows[0]).getByRole('link')).toHaveAttribute(
      'href',
      expect.stringContaining('?run=run-23'),
    );

    await userEvent.click(screen.getByRole('button', { name: 'Next page' }));
    await waitFor(() =>
      expect(
        within(screen.getByRole('table', { name: 'Runs' })).getAllByRole(
          'link',
        )[0],
      ).toHaveAttribute('href', expect.stringContaining('?run=run-13')),
    );
    await userEvent.click(screen.getByRole('button', { name: 'Next page' }));
    await waitFor(() => {
      rows = within(screen.getByRole('table', { name: 'Runs' }))
        .getAllByRole('row')
        .slice(1);
      expect(rows).toHaveLength(3);
    });
    expect(within(rows[2]).getByRole('link')).toHaveAttribute(
      'href',
      expect.stringContaining('?run=run-1'),
    );
    expect(screen.getByRole('button', { name: 'Next page' })).toBeDisabled();
  });

  it('shows a new run and its phases as the backend signals them, without a reload', async () => {
    const backend = fakeChaosBackend(server, {
      runs: [aRunDetail({ id: 'run-1' })],
    });
    const signals = fakeSignals();
    await renderHistory(signals);
    const channel = entityRunsSignalChannel(ENTITY);
    await screen.findByRole('table', { name: 'Runs' });
    await waitFor(() => expect(signals.subscribers(channel)).toBe(1));

    backend.addRun(
      aRunDetail({
        id: 'run-2',
        createdAt: at(500),
        phase: 'Running',
        verdict: undefined,
      }),
    );
    act(() => signals.publish(channel, { runId: 'run-2' }));
    await waitFor(() =>
      expect(
        within(screen.getByRole('table', { name: 'Runs' })).getAllByRole('row'),
      ).toHaveLength(3),
    );
    const newest = () =>
      within(screen.getByRole('table', { name: 'Runs' })).getAllByRole(
        'row',
      )[1];
    expect(within(newest()).getByText('Running')).toBeInTheDocument();

    backend.addRun(
      aRunDetail({
        id: 'run-2',
        createdAt: at(500),
        phase: 'Completed',
        verdict: 'Passed',
      }),
    );
    act(() => signals.publish(channel, { runId: 'run-2' }));
    await waitFor(() =>
      expect(within(newest()).getByText('Completed')).toBeInTheDocument(),
    );
  });

  it('reads the page once per signal, not in a loop', async () => {
    fakeChaosBackend(server, { runs: [aRunDetail({ id: 'run-1' })] });
    let lists = 0;
    const count = ({ request }: { request: Request }) => {
      if (new URL(request.url).pathname.endsWith('/runs')) lists += 1;
    };
    server.events.on('request:start', count);
    try {
      const signals = fakeSignals();
      await renderHistory(signals);
      const channel = entityRunsSignalChannel(ENTITY);
      await screen.findByRole('table', { name: 'Runs' });
      await waitFor(() => expect(signals.subscribers(channel)).toBe(1));
      const before = lists;
      act(() => signals.publish(channel, { runId: 'run-1' }));
      await waitFor(() => expect(lists).toBe(before + 1));
      // A refetch loop (an effect that depends on retry, whose identity changes with each load)
      // would keep reading; one signal is one read.
      await new Promise(resolve => setTimeout(resolve, 500));
      expect(lists).toBe(before + 1);
    } finally {
      server.events.removeListener('request:start', count);
    }
  });
});
