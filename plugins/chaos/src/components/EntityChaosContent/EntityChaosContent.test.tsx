import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { setupServer } from 'msw/node';
import { http, HttpResponse } from 'msw';
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
import {
  Experiment,
  experimentSpecSchema,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { ChaosClient, chaosApiRef } from '../../api';
import { EntityChaosContent } from './EntityChaosContent';

const BASE = 'http://chaos.test/api/chaos';

const checkout: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'checkout',
    namespace: 'default',
    annotations: {
      'backstage.io/kubernetes-namespace': 'chaos-demo',
      'backstage.io/kubernetes-label-selector': 'app=checkout',
    },
  },
  spec: { type: 'service', owner: 'team-checkout' },
};

const server = setupServer();
registerMswTestHooks(server);

/**
 * A tiny in-memory chaos backend behind msw, so the component talks to it through the
 * real ChaosClient over fetch; validation answers as the real backend does, from the schema.
 */
function fakeBackend(): { experiments: Experiment[] } {
  const state = { experiments: [] as Experiment[] };
  server.use(
    http.get(`${BASE}/experiments`, ({ request }) => {
      const url = new URL(request.url);
      const items = state.experiments.filter(e => e.entityRef === url.searchParams.get('entityRef'));
      return HttpResponse.json({ items, totalCount: items.length, offset: 0, limit: 10 });
    }),
    http.post(`${BASE}/experiments`, async ({ request }) => {
      const parsed = experimentSpecSchema.safeParse(await request.json());
      if (!parsed.success) {
        return HttpResponse.json({ error: { name: 'InputError', message: parsed.error.message } }, { status: 400 });
      }
      const now = new Date().toISOString();
      const created = { ...parsed.data, id: String(state.experiments.length + 1), createdBy: 'user:default/guest', createdAt: now, updatedAt: now };
      state.experiments.push(created);
      return HttpResponse.json(created, { status: 201 });
    }),
    http.delete(`${BASE}/experiments/:id`, ({ params }) => {
      state.experiments = state.experiments.filter(e => e.id !== params.id);
      return new HttpResponse(null, { status: 204 });
    }),
  );
  return state;
}

function renderTab(entity: Entity, authorize = AuthorizeResult.ALLOW) {
  const chaosClient = new ChaosClient({
    discoveryApi: { getBaseUrl: async () => BASE },
    fetchApi: { fetch: (input, init) => fetch(input, init) },
  });
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
        <EntityChaosContent />
      </EntityProvider>
    </TestApiProvider>,
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
    // Namespace and selector come from the entity's annotations.
    expect(screen.getByLabelText('Namespace')).toHaveValue('chaos-demo');
    expect(screen.getByLabelText('Label selector')).toHaveValue('app=checkout');

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
    await renderTab(checkout, AuthorizeResult.DENY);
    await screen.findByText('No chaos experiments yet');
    await waitFor(() =>
      expect(screen.getByRole('button', { name: 'New experiment' })).toBeDisabled(),
    );
  });

  it('shows a backend error instead of the list', async () => {
    server.use(
      http.get(`${BASE}/experiments`, () =>
        HttpResponse.json({ error: { name: 'Error', message: 'database is down' } }, { status: 500 }),
      ),
    );
    await renderTab(checkout);
    expect((await screen.findAllByText(/database is down/)).length).toBeGreaterThan(0);
  });
});
