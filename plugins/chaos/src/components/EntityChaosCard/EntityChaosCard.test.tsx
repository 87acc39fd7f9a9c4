import { screen } from '@testing-library/react';
import { setupServer } from 'msw/node';
import {
  TestApiProvider,
  registerMswTestHooks,
  renderInTestApp,
} from '@backstage/frontend-test-utils';
import { EntityProvider, entityRouteRef } from '@backstage/plugin-catalog-react';
import type { Entity } from '@backstage/catalog-model';
import { chaosApiRef } from '../../api';
import {
  aRunDetail,
  fakeChaosBackend,
  testChaosClient,
} from '../../api/__testUtils__/fakeChaosBackend';
import { EntityChaosCard } from './EntityChaosCard';
import { resilienceSummary } from './resilienceSummary';

const server = setupServer();
registerMswTestHooks(server);
jest.setTimeout(30_000);

const checkout: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'checkout', namespace: 'default', annotations: { 'backstage.io/kubernetes-namespace': 'chaos-demo' } },
  spec: { type: 'service', owner: 'team-checkout' },
};

const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();

function renderCard() {
  return renderInTestApp(
    <TestApiProvider apis={[[chaosApiRef, testChaosClient()]]}>
      <EntityProvider entity={checkout}>
        <EntityChaosCard />
      </EntityProvider>
    </TestApiProvider>,
    { mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef } },
  );
}

describe('EntityChaosCard', () => {
  it('shows the last run and the counts of the last 30 days, with links to the Chaos tab', async () => {
    fakeChaosBackend(server, {
      runs: [
        aRunDetail({ id: 'r1', createdAt: daysAgo(40), startedAt: daysAgo(40), verdict: 'Failed' }),
        aRunDetail({ id: 'r2', createdAt: daysAgo(10), startedAt: daysAgo(10), verdict: 'Passed' }),
        aRunDetail({ id: 'r3', createdAt: daysAgo(5), startedAt: daysAgo(5), verdict: 'Failed' }),
        aRunDetail({ id: 'r4', createdAt: daysAgo(1), startedAt: daysAgo(1), phase: 'Failed', verdict: 'Refused', message: 'selecting 6 of 10 pods (60%) exceeds the limit of 50%' }),
      ],
    });
    await renderCard();

    expect(await screen.findByText('Chaos resilience')).toBeInTheDocument();
    expect(await screen.findByText('Refused')).toBeInTheDocument();
    expect(screen.getByText('selecting 6 of 10 pods (60%) exceeds the limit of 50%')).toBeInTheDocument();
    const counts = screen.getByRole('group', { name: 'Runs in the last 30 days' });
    expect(counts).toHaveTextContent('3runs in 30 days1passed1failed1refused');
    expect(screen.getByRole('link', { name: 'Open the Chaos tab' })).toHaveAttribute('href', '/catalog/default/component/checkout/chaos');
    expect(screen.getByRole('link', { name: /\d/ })).toHaveAttribute('href', '/catalog/default/component/checkout/chaos?run=r4');
  });

  it('says there are no runs yet', async () => {
    fakeChaosBackend(server);
    await renderCard();
    expect(await screen.findByText(/No runs yet/)).toBeInTheDocument();
  });
});

describe('resilienceSummary', () => {
  it('leaves dry runs out and says when the page did not reach back 30 days', () => {
    const now = Date.now();
    const items = [aRunDetail({ createdAt: daysAgo(1), startedAt: daysAgo(1), dryRun: true }), aRunDetail({ createdAt: daysAgo(2), startedAt: daysAgo(2) })];
    expect(resilienceSummary({ items, totalCount: 200, offset: 0, limit: 2 }, now)).toMatchObject({ runs: 1, atLeast: true, passed: 1 });
    expect(resilienceSummary({ items, totalCount: 2, offset: 0, limit: 2 }, now)).toMatchObject({ runs: 1, atLeast: false });
  });
});
