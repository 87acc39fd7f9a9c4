import { act, screen, waitFor, within } from '@testing-library/react';
import { setupServer } from 'msw/node';
import {
  TestApiProvider,
  registerMswTestHooks,
  renderInTestApp,
} from '@backstage/frontend-test-utils';
import {
  EntityProvider,
  entityRouteRef,
} from '@backstage/plugin-catalog-react';
import { signalApiRef } from '@backstage/plugin-signals-react';
import type { Entity } from '@backstage/catalog-model';
import {
  FAULT_TYPES,
  entityRunsSignalChannel,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { chaosApiRef } from '../../api';
import {
  aRunDetail,
  anExperiment,
  at,
  fakeChaosBackend,
  testChaosClient,
} from '../../api/__testUtils__/fakeChaosBackend';
import { fakeSignals } from '../../api/__testUtils__/fakeSignals';
import { EntityChaosCard } from './EntityChaosCard';

const server = setupServer();
registerMswTestHooks(server);
jest.setTimeout(30_000);

const checkout: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'checkout',
    namespace: 'default',
    annotations: { 'backstage.io/kubernetes-namespace': 'chaos-demo' },
  },
  spec: { type: 'service', owner: 'team-checkout' },
};

const share = 100 / FAULT_TYPES.length;

function renderCard(signals = fakeSignals()) {
  return renderInTestApp(
    <TestApiProvider
      apis={[
        [chaosApiRef, testChaosClient()],
        [signalApiRef, signals.api],
      ]}
    >
      <EntityProvider entity={checkout}>
        <EntityChaosCard />
      </EntityProvider>
    </TestApiProvider>,
    { mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef } },
  );
}

describe('EntityChaosCard', () => {
  it('shows the score the backend computes, what raises it, and the last run', async () => {
    fakeChaosBackend(server, {
      experiments: [
        anExperiment({ id: 'kill' }),
        anExperiment({
          id: 'loss',
          name: 'loss',
          faults: [
            {
              type: 'network-loss',
              lossPercent: 10,
              correlationPercent: 0,
              device: 'eth0',
            },
          ],
        }),
      ],
      runs: [
        aRunDetail({
          id: 'r1',
          experimentId: 'kill',
          createdAt: at(0),
          finishedAt: at(60),
        }),
        aRunDetail({
          id: 'r2',
          experimentId: 'loss',
          createdAt: at(100),
          finishedAt: at(160),
          verdict: 'Failed',
          phase: 'Aborted',
          message: 'error rate 0.31 is not < 0.05',
        }),
      ],
    });
    await renderCard();

    // pod-kill passed (in full), network-loss failed: one share of the score.
    expect(await screen.findByTestId('resilience-score')).toHaveTextContent(
      String(Math.round(share)),
    );
    const raises = screen.getByRole('list', { name: 'What raises it' });
    expect(within(raises).getAllByRole('listitem')).toHaveLength(3);
    expect(raises).toHaveTextContent(
      `pass a network-latency experiment: +${Math.round(share * 10) / 10}`,
    );
    expect(raises).not.toHaveTextContent('pod-kill');
    expect(
      screen.getByText('1 of 9 kinds of fault passed lately.', {
        exact: false,
      }),
    ).toBeInTheDocument();

    // The last run, linked to its page in the Chaos tab.
    expect(
      screen.getByText('error rate 0.31 is not < 0.05'),
    ).toBeInTheDocument();
    expect(
      screen.getByRole('link', { name: 'Open the Chaos tab' }),
    ).toHaveAttribute('href', '/catalog/default/component/checkout/chaos');
    expect(screen.getByRole('link', { name: /\d/ })).toHaveAttribute(
      'href',
      '/catalog/default/component/checkout/chaos?run=r2',
    );
  });

  it('says there are no runs yet, with a score of 0', async () => {
    fakeChaosBackend(server);
    await renderCard();
    expect(await screen.findByText(/No runs yet/)).toBeInTheDocument();
    expect(screen.getByTestId('resilience-score')).toHaveTextContent('0');
  });

  it('rises when the backend signals that a run of the entity passed', async () => {
    const backend = fakeChaosBackend(server, {
      experiments: [anExperiment({ id: 'kill' })],
    });
    const signals = fakeSignals();
    await renderCard(signals);
    expect(await screen.findByTestId('resilience-score')).toHaveTextContent(
      '0',
    );
    const channel = entityRunsSignalChannel('component:default/checkout');
    await waitFor(() => expect(signals.subscribers(channel)).toBe(1));

    backend.addRun(
      aRunDetail({
        id: 'r9',
        experimentId: 'kill',
        createdAt: at(200),
        finishedAt: at(260),
      }),
    );
    act(() => signals.publish(channel, { runId: 'r9' }));
    await waitFor(() =>
      expect(screen.getByTestId('resilience-score')).toHaveTextContent(
        String(Math.round(share)),
      ),
    );
  });
});
