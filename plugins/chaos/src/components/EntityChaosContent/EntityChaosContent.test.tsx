import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { setupServer } from 'msw/node';
import { NotAllowedError } from '@backstage/errors';
import { Route, Routes, useLocation } from 'react-router-dom';
import {
  TestApiProvider,
  mockApis,
  registerMswTestHooks,
  renderInTestApp,
} from '@backstage/frontend-test-utils';
import { fetchApiRef, discoveryApiRef } from '@backstage/frontend-plugin-api';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import type { Entity } from '@backstage/catalog-model';
import { chaosApiRef } from '../../api';
import {
  aRunDetail,
  anExperiment,
  fakeChaosBackend,
  progression,
  testChaosClient,
} from '../../api/__testUtils__/fakeChaosBackend';
import { EntityChaosContent } from './EntityChaosContent';

jest.setTimeout(30_000);

const checkout: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'checkout',
    namespace: 'default',
    annotations: {
      'backstage.io/kubernetes-namespace': 'chaos-demo',
      'backstage.io/kubernetes-label-selector': 'app=checkout',
      'chaoscraft.io/cluster': 'sandbox',
    },
  },
  spec: { type: 'service', owner: 'team-checkout' },
};

/**
 * Not owned by the signed-in user in the DENY tests. usePermission caches decisions per
 * resource across tests, so a denied entity must not be one that other tests are allowed on.
 */
const payments: Entity = { ...checkout, metadata: { ...checkout.metadata, name: 'payments' } };

const server = setupServer();
registerMswTestHooks(server);

const fakeBackend = (init?: Parameters<typeof fakeChaosBackend>[1]) => fakeChaosBackend(server, init);

/** Shows the URL's search, so tests can check that a run has a link of its own. */
const Search = () => <output aria-label="search">{useLocation().search}</output>;

function renderTab(entity: Entity, authorize: AuthorizeResult.ALLOW | AuthorizeResult.DENY = AuthorizeResult.ALLOW, initialSearch = '') {
  const chaosClient = testChaosClient();
  return renderInTestApp(
    <TestApiProvider
      apis={[
        [chaosApiRef, chaosClient],
        [permissionApiRef, mockApis.permission({ authorize })],
        [discoveryApiRef, mockApis.discovery()],
        [fetchApiRef, { fetch }],
      ]}
    >
      <EntityProvider entity={entity}>
        <Routes>
          <Route
            path="/chaos"
            element={
              <>
                <EntityChaosContent />
                <Search />
              </>
            }
          />
        </Routes>
      </EntityProvider>
    </TestApiProvider>,
    { initialRouteEntries: [`/chaos${initialSearch}`] },
  );
}

describe('EntityChaosContent', () => {
  it('says which annotation to add when the entity has none', async () => {
    fakeBackend();
    await renderTab({ ...checkout, metadata: { name: 'legacy-batch', annotations: {} } });
    expect(await screen.findByText(/backstage.io\/kubernetes-namespace/)).toBeInTheDocument();
  });

  it('shows the empty state, then creates an experiment through the form and lists it', async () => {
    const backend = fakeBackend();
    await renderTab(checkout);
    expect(await screen.findByText('No chaos experiments yet')).toBeInTheDocument();

    await userEvent.click(screen.getByRole('button', { name: 'New experiment' }));
    // Namespace and selector come from the entity's annotations; the namespace is not editable,
    // and a selector outside the entity's pods is refused next to the field, before anything is sent.
    expect(screen.getByLabelText('Namespace')).toHaveValue('chaos-demo');
    expect(screen.getByLabelText('Namespace')).toBeDisabled();
    expect(screen.getByLabelText('Label selector')).toHaveValue('app=checkout');
    await userEvent.type(screen.getByLabelText('Name'), 'sneaky');
    await userEvent.clear(screen.getByLabelText('Label selector'));
    await userEvent.type(screen.getByLabelText('Label selector'), 'app=payments');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText(/must select only the entity's pods/)).toBeInTheDocument();
    expect(backend.experiments).toHaveLength(0);
    await userEvent.clear(screen.getByLabelText('Label selector'));
    await userEvent.type(screen.getByLabelText('Label selector'), 'app=checkout');
    await userEvent.clear(screen.getByLabelText('Name'));

    // Inline errors come from the schema, before anything is sent.
    await userEvent.type(screen.getByLabelText('Name'), 'Bad Name');
    await userEvent.clear(screen.getByLabelText('Duration'));
    await userEvent.type(screen.getByLabelText('Duration'), 'soon');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText(/must be a lowercase RFC 1123 label/)).toBeInTheDocument();
    expect(screen.getByText(/must be a duration such as 30s/)).toBeInTheDocument();
    expect(backend.experiments).toHaveLength(0);

    await userEvent.clear(screen.getByLabelText('Name'));
    await userEvent.type(screen.getByLabelText('Name'), 'kill-one');
    await userEvent.clear(screen.getByLabelText('Duration'));
    await userEvent.type(screen.getByLabelText('Duration'), '30s');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));

    expect(await screen.findByText('kill-one')).toBeInTheDocument();
    expect(backend.experiments[0]).toMatchObject({
      entityRef: 'component:default/checkout',
      duration: '30s',
      target: { namespace: 'chaos-demo', labelSelector: { app: 'checkout' } },
    });

    await userEvent.click(screen.getByRole('button', { name: 'Delete' }));
    expect(await screen.findByText('No chaos experiments yet')).toBeInTheDocument();
    expect(backend.experiments).toHaveLength(0);
  });

  it('disables changes for people who do not own the entity, and says why', async () => {
    fakeBackend();
    await renderTab(payments, AuthorizeResult.DENY);
    await screen.findByText('No chaos experiments yet');
    await waitFor(() =>
      expect(screen.getByRole('button', { name: 'New experiment' })).toBeDisabled(),
    );
  });

  it('shows a backend error instead of the list', async () => {
    fakeBackend().failures.set('listExperiments', new Error('database is down'));
    await renderTab(checkout);
    expect((await screen.findAllByText(/database is down/)).length).toBeGreaterThan(0);
  });

  it('runs an experiment from its row, shows the run live until it completes, then lists it', async () => {
    const backend = fakeBackend({ experiments: [anExperiment()] });
    backend.nextRun = (experiment, id) =>
      progression(aRunDetail({ id, experimentId: experiment.id }), [
        'Pending',
        'Preflight',
        'Running',
        'Completed',
      ]);
    await renderTab(checkout);
    expect(await screen.findByText('No runs yet')).toBeInTheDocument();

    await waitFor(() => expect(screen.getByRole('button', { name: 'Run' })).toBeEnabled());
    await userEvent.click(screen.getByRole('button', { name: 'Run' }));
    expect(backend.started).toEqual([{ experimentId: 'exp-1', dryRun: false }]);
    expect(await screen.findByRole('heading', { name: 'Run of kill-one' })).toBeInTheDocument();
    expect(screen.getByLabelText('search')).toHaveTextContent('?run=run-1');
    await waitFor(() => expect(screen.getByTestId('run-phase')).toHaveTextContent('Completed'), { timeout: 10_000 });
    expect(screen.getByText('3 of 10 pods (30%) · limit 50%')).toBeInTheDocument();

    await userEvent.click(screen.getByRole('button', { name: 'Back to experiments' }));
    const history = await screen.findByRole('table', { name: 'Runs' });
    expect(within(history).getByText('kill-one')).toBeInTheDocument();
    expect(within(history).getByText('Completed')).toBeInTheDocument();
  });

  it('starts a dry run', async () => {
    const backend = fakeBackend({ experiments: [anExperiment()] });
    await renderTab(checkout);
    await waitFor(() => expect(screen.getByRole('button', { name: 'Dry run' })).toBeEnabled());
    await userEvent.click(screen.getByRole('button', { name: 'Dry run' }));
    await screen.findByTestId('run-phase');
    expect(backend.started).toEqual([{ experimentId: 'exp-1', dryRun: true }]);
    expect(screen.getByText('dry run')).toBeInTheDocument();
  });

  it('opens a run from the history, and from a link', async () => {
    fakeBackend({ experiments: [anExperiment()], runs: [aRunDetail({ id: 'run-7' })] });
    await renderTab(checkout);
    const history = await screen.findByRole('table', { name: 'Runs' });
    await userEvent.click(within(history).getByRole('link'));
    expect(await screen.findByText('checkout-7d9f-a')).toBeInTheDocument();
    expect(screen.getByLabelText('search')).toHaveTextContent('?run=run-7');
  });

  it('opens the run named in the URL', async () => {
    fakeBackend({ runs: [aRunDetail({ id: 'run-7' })] });
    await renderTab(checkout, AuthorizeResult.ALLOW, '?run=run-7');
    expect(await screen.findByTestId('run-phase')).toHaveTextContent('Completed');
  });

  it('disables Run and Dry run for people who do not own the entity, and says why', async () => {
    const backend = fakeBackend({
      experiments: [anExperiment({ entityRef: 'component:default/payments' })],
    });
    await renderTab(payments, AuthorizeResult.DENY);
    await screen.findByText('kill-one');
    await waitFor(() => expect(screen.getByRole('button', { name: 'Run' })).toBeDisabled());
    expect(screen.getByRole('button', { name: 'Dry run' })).toBeDisabled();
    await userEvent.hover(screen.getByRole('button', { name: 'Run' }).parentElement!);
    expect(await screen.findByText('Only the owners of payments may run its experiments')).toBeInTheDocument();
    expect(backend.started).toEqual([]);
  });

  it('shows why a run could not start', async () => {
    const backend = fakeBackend({ experiments: [anExperiment()] });
    backend.failures.set('runExperiment', new NotAllowedError('only the owners of checkout may run its experiments'));
    await renderTab(checkout);
    await waitFor(() => expect(screen.getByRole('button', { name: 'Run' })).toBeEnabled());
    await userEvent.click(screen.getByRole('button', { name: 'Run' }));
    expect((await screen.findAllByText(/only the owners of checkout may run/)).length).toBeGreaterThan(0);
  });
});
