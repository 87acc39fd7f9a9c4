import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { setupServer } from 'msw/node';
import { Route, Routes } from 'react-router-dom';
import {
  TestApiProvider,
  mockApis,
  registerMswTestHooks,
  renderInTestApp,
} from '@backstage/frontend-test-utils';
import { fetchApiRef, discoveryApiRef } from '@backstage/frontend-plugin-api';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  EntityProvider,
  catalogApiRef,
  entityRouteRef,
} from '@backstage/plugin-catalog-react';
import { testCatalog } from '../../api/__testUtils__/fakeCatalog';
import type { Entity } from '@backstage/catalog-model';
import { chaosApiRef } from '../../api';
import {
  aRunDetail,
  anExperiment,
  at,
  fakeChaosBackend,
  progression,
  testChaosClient,
} from '../../api/__testUtils__/fakeChaosBackend';
import { EntityChaosContent } from '../EntityChaosContent';

jest.setTimeout(30_000);

const cart: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'cart',
    namespace: 'default',
    annotations: {
      'backstage.io/kubernetes-namespace': 'chaos-demo',
      'backstage.io/kubernetes-label-selector': 'app=cart',
      'chaoscraft.io/cluster': 'sandbox',
      'chaoscraft.io/experiments-location': './chaos/',
    },
  },
  spec: { type: 'service', owner: 'team-checkout' },
};
const CART = 'component:default/cart';
const FILE = 'https://git.example/shop/blob/main/chaos/kill.yaml';

const server = setupServer();
registerMswTestHooks(server);

function renderTab() {
  return renderInTestApp(
    <TestApiProvider
      apis={[
        [chaosApiRef, testChaosClient()],
        [
          permissionApiRef,
          mockApis.permission({ authorize: AuthorizeResult.ALLOW }),
        ],
        [discoveryApiRef, mockApis.discovery()],
        [fetchApiRef, { fetch }],
        [catalogApiRef, testCatalog()],
      ]}
    >
      <EntityProvider entity={cart}>
        <Routes>
          <Route path="/chaos" element={<EntityChaosContent />} />
        </Routes>
      </EntityProvider>
    </TestApiProvider>,
    {
      initialRouteEntries: ['/chaos'],
      mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef },
    },
  );
}

const target = {
  namespace: 'chaos-demo',
  labelSelector: { app: 'cart' },
  selection: { mode: 'one' as const },
};

describe('experiments kept as code on the Chaos tab', () => {
  it('shows them read-only with a link to their source, runnable, beside the ones made here', async () => {
    const backend = fakeChaosBackend(server, {
      experiments: [
        anExperiment({
          id: 'exp-code',
          name: 'code-kill',
          entityRef: CART,
          target,
          createdBy: `file ${FILE}`,
          managedBy: { kind: 'location', source: FILE, url: FILE },
        }),
        anExperiment({
          id: 'exp-cluster',
          name: 'cluster-kill',
          entityRef: CART,
          target,
          createdAt: at(1),
          managedBy: {
            kind: 'cluster',
            source: 'sandbox/chaos-demo/cluster-kill',
          },
        }),
        anExperiment({
          id: 'exp-api',
          name: 'by-hand',
          entityRef: CART,
          target,
          createdAt: at(2),
        }),
      ],
    });
    await renderTab();
    const row = (name: string) => screen.getByText(name).closest('tr')!;
    await screen.findByText('code-kill');

    expect(
      within(row('code-kill')).getByRole('link', { name: /^kept as code/ }),
    ).toHaveAttribute('href', FILE);
    expect(within(row('code-kill')).getByTestId('managed-by')).toHaveAttribute(
      'aria-label',
      `Kept as code: ${FILE}. Read-only here: change it at its source.`,
    );
    expect(
      within(row('code-kill')).queryByRole('button', { name: 'Edit' }),
    ).toBeNull();
    expect(
      within(row('code-kill')).queryByRole('button', { name: 'Delete' }),
    ).toBeNull();
    expect(
      within(row('cluster-kill')).getByTestId('managed-by'),
    ).toHaveAttribute(
      'aria-label',
      expect.stringContaining(
        'ChaosExperiment sandbox/chaos-demo/cluster-kill',
      ),
    );
    expect(within(row('cluster-kill')).queryByRole('link')).toBeNull();
    expect(
      within(row('by-hand')).getByRole('button', { name: 'Edit' }),
    ).toBeEnabled();
    expect(
      screen.queryByText(/problems? with experiments kept as code/),
    ).toBeNull();

    // Run previews with a dry run first, as for any experiment, then runs it live.
    backend.nextRun = (experiment, id, dryRun) =>
      progression(
        aRunDetail({
          id,
          experimentId: experiment.id,
          dryRun,
          ...(dryRun
            ? { verdict: 'Inconclusive' as const, reason: 'DryRun', probes: [] }
            : {}),
        }),
        ['Pending', 'Completed'],
      );
    await userEvent.click(
      within(row('code-kill')).getByRole('button', { name: /^Run/ }),
    );
    const preview = await screen.findByRole('dialog', {
      name: 'Run code-kill?',
    });
    await waitFor(
      () =>
        expect(
          within(preview).getByRole('button', { name: 'Run now' }),
        ).toBeEnabled(),
      { timeout: 10_000 },
    );
    await userEvent.click(
      within(preview).getByRole('button', { name: 'Run now' }),
    );
    // The run's page opens (it re-renders as the run is polled, so only its presence is checked).
    await screen.findByRole(
      'button',
      { name: 'Back to experiments' },
      { timeout: 10_000 },
    );
    expect(backend.started).toEqual([
      { experimentId: 'exp-code', dryRun: true },
      { experimentId: 'exp-code', dryRun: false },
    ]);
  });

  it('shows every problem with them: the field that breaks the model, a name conflict, a location that cannot be read', async () => {
    fakeChaosBackend(server, {
      sources: [
        {
          kind: 'location',
          entityRef: CART,
          location: 'https://git.example/shop/tree/main/chaos/',
          checkedAt: at(5),
          experimentCount: 0,
          problems: [
            {
              kind: 'invalid',
              source: `${FILE}#2`,
              name: 'slow',
              field: 'spec.faults.0.latencyMs',
              message: 'Too small: expected number to be >=1',
            },
            {
              kind: 'conflict',
              source: FILE,
              name: 'by-hand',
              field: 'metadata.name',
              message:
                "'by-hand' is also an experiment made in Backstage by user:default/guest, which stays in effect",
            },
          ],
        },
        {
          kind: 'cluster',
          entityRef: CART,
          location: 'sandbox',
          checkedAt: at(5),
          experimentCount: 1,
          problems: [],
        },
      ],
    });
    await renderTab();
    expect(
      await screen.findByText(
        /^(Warning: )?2 problems with experiments kept as code$/,
      ),
    ).toBeInTheDocument();
    const items = within(
      screen.getByRole('list', {
        name: 'Problems with experiments kept as code',
      }),
    ).getAllByRole('listitem');
    expect(items.map(i => i.textContent)).toEqual([
      `Invalid slow in ${FILE}#2: spec.faults.0.latencyMs: Too small: expected number to be >=1`,
      `Name conflict by-hand in ${FILE}: metadata.name: 'by-hand' is also an experiment made in Backstage by user:default/guest, which stays in effect`,
    ]);
  });
});
