import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { setupServer } from 'msw/node';
import { InputError, NotAllowedError } from '@backstage/errors';
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
const payments: Entity = {
  ...checkout,
  metadata: { ...checkout.metadata, name: 'payments' },
};

const server = setupServer();
registerMswTestHooks(server);

const fakeBackend = (init?: Parameters<typeof fakeChaosBackend>[1]) =>
  fakeChaosBackend(server, init);

/** Shows the URL's search, so tests can check that a run has a link of its own. */
const Search = () => (
  <output aria-label="search">{useLocation().search}</output>
);

function renderTab(
  entity: Entity,
  authorize:
    | AuthorizeResult.ALLOW
    | AuthorizeResult.DENY = AuthorizeResult.ALLOW,
  initialSearch = '',
) {
  const chaosClient = testChaosClient();
  return renderInTestApp(
    <TestApiProvider
      apis={[
        [chaosApiRef, chaosClient],
        [permissionApiRef, mockApis.permission({ authorize })],
        [discoveryApiRef, mockApis.discovery()],
        [fetchApiRef, { fetch }],
        [catalogApiRef, testCatalog()],
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
    {
      initialRouteEntries: [`/chaos${initialSearch}`],
      mountedRoutes: { '/catalog/:namespace/:kind/:name': entityRouteRef },
    },
  );
}

describe('EntityChaosContent', () => {
  it('says which annotation to add when the entity has none', async () => {
    fakeBackend();
    await renderTab({
      ...checkout,
      metadata: { name: 'legacy-batch', annotations: {} },
    });
    expect(
      await screen.findByText(/backstage.io\/kubernetes-namespace/),
    ).toBeInTheDocument();
  });

  it('shows the empty state, then creates an experiment through the form and lists it', async () => {
    const backend = fakeBackend();
    await renderTab(checkout);
    expect(
      await screen.findByText('No chaos experiments yet'),
    ).toBeInTheDocument();

    await userEvent.click(
      screen.getByRole('button', { name: 'New experiment' }),
    );
    // Namespace and selector come from the entity's annotations; the namespace is not editable,
    // and a selector outside the entity's pods is refused next to the field, before anything is sent.
    expect(screen.getByLabelText('Namespace')).toHaveValue('chaos-demo');
    expect(screen.getByLabelText('Namespace')).toBeDisabled();
    expect(screen.getByLabelText('Label selector')).toHaveValue('app=checkout');
    await userEvent.type(screen.getByLabelText('Name'), 'sneaky');
    await userEvent.clear(screen.getByLabelText('Label selector'));
    await userEvent.type(
      screen.getByLabelText('Label selector'),
      'app=payments',
    );
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(
      await screen.findByText(/must select only the entity's pods/),
    ).toBeInTheDocument();
    expect(backend.experiments).toHaveLength(0);
    await userEvent.clear(screen.getByLabelText('Label selector'));
    await userEvent.type(
      screen.getByLabelText('Label selector'),
      'app=checkout',
    );
    await userEvent.clear(screen.getByLabelText('Name'));

    // Inline errors come from the schema, before anything is sent.
    await userEvent.type(screen.getByLabelText('Name'), 'Bad Name');
    await userEvent.clear(screen.getByLabelText('Duration'));
    await userEvent.type(screen.getByLabelText('Duration'), 'soon');
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(
      await screen.findByText(/must be a lowercase RFC 1123 label/),
    ).toBeInTheDocument();
    expect(
      screen.getByText(/must be a duration such as 30s/),
    ).toBeInTheDocument();
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
    expect(
      await screen.findByText('No chaos experiments yet'),
    ).toBeInTheDocument();
    expect(backend.experiments).toHaveLength(0);
  });

  /** Picks an option of a select (MUI renders it as a button that opens a listbox). */
  async function choose(scope: HTMLElement, label: RegExp, option: string) {
    await userEvent.click(within(scope).getByRole('button', { name: label }));
    await userEvent.click(await screen.findByRole('option', { name: option }));
  }

  it('creates an experiment with the whole model: two faults with destinations, a PromQL and an HTTP probe, a step', async () => {
    const backend = fakeBackend();
    backend.ceilings = {
      ...backend.ceilings,
      maxBlastRadiusPercent: 30,
      allowedFaultTypes: ['pod-kill', 'network-bandwidth', 'network-loss'],
    };
    await renderTab(checkout);
    await waitFor(() =>
      expect(
        screen.getByRole('button', { name: 'New experiment' }),
      ).toBeEnabled(),
    );
    await userEvent.click(
      screen.getByRole('button', { name: 'New experiment' }),
    );
    const form = screen.getByRole('form', { name: 'Experiment' });
    await userEvent.type(within(form).getByLabelText('Name'), 'squeeze');
    expect(
      within(form).getByText('at most 30% here (operator and entity ceilings)'),
    ).toBeInTheDocument();

    // The first fault becomes a bandwidth limit towards two CIDRs on port 443.
    const first = within(form).getByRole('group', { name: 'Fault 1' });
    await choose(first, /^Fault/, 'network-bandwidth');
    expect(within(first).getByLabelText('Bandwidth (kbit/s)')).toHaveValue(
      '1000',
    );
    await userEvent.clear(within(first).getByLabelText('Bandwidth (kbit/s)'));
    await userEvent.type(
      within(first).getByLabelText('Bandwidth (kbit/s)'),
      '256',
    );
    await userEvent.type(
      within(first).getByLabelText('Only to CIDRs'),
      '10.96.0.0/12, 10.0.0.0/33',
    );
    await userEvent.type(within(first).getByLabelText('Only to ports'), '443');

    // A second fault: the next type still free; memory-stress is not allowed here.
    await userEvent.click(
      within(form).getByRole('button', { name: 'Add fault' }),
    );
    const second = within(form).getByRole('group', { name: 'Fault 2' });
    await userEvent.click(
      within(second).getByRole('button', { name: /^Fault/ }),
    );
    expect(
      await screen.findByRole('option', {
        name: 'memory-stress (not allowed here)',
      }),
    ).toHaveAttribute('aria-disabled', 'true');
    expect(
      screen.getByRole('option', {
        name: 'network-bandwidth (already in this experiment)',
      }),
    ).toHaveAttribute('aria-disabled', 'true');
    await userEvent.click(screen.getByRole('option', { name: 'network-loss' }));

    // Probes: the error rate in PromQL, and an HTTP check only while faults are active.
    await userEvent.click(
      within(form).getByRole('button', { name: 'Add probe' }),
    );
    const promql = within(form).getByRole('group', { name: 'Probe 1' });
    await userEvent.type(
      within(promql).getByLabelText('PromQL query'),
      'sum(rate(errors[[1m]))',
    );
    await userEvent.type(within(promql).getByLabelText('Threshold'), '0.05');
    await userEvent.click(
      within(form).getByRole('button', { name: 'Add probe' }),
    );
    const http = within(form).getByRole('group', { name: 'Probe 2' });
    await choose(http, /^Probe type/, 'HTTP');
    await userEvent.type(
      within(http).getByLabelText('URL'),
      'http://checkout.chaos-demo.svc/healthz',
    );
    await userEvent.click(within(http).getByLabelText('before'));
    await userEvent.click(within(http).getByLabelText('after'));

    await userEvent.click(
      within(form).getByRole('button', { name: 'Add progressive step' }),
    );
    await userEvent.clear(within(form).getByLabelText('Max blast radius (%)'));
    await userEvent.type(
      within(form).getByLabelText('Max blast radius (%)'),
      '40',
    );

    // Errors from the schema, each at its input; nothing is sent.
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(
      await within(first).findByText(/must be an IPv4 CIDR/),
    ).toBeInTheDocument();
    expect(backend.experiments).toHaveLength(0);
    // They follow the input as it changes; once the spec is well formed, the ceilings are checked.
    await userEvent.clear(within(first).getByLabelText('Only to CIDRs'));
    await userEvent.type(
      within(first).getByLabelText('Only to CIDRs'),
      '10.96.0.0/12, 192.168.0.0/16',
    );
    await waitFor(() =>
      expect(
        within(first).queryByText(/must be an IPv4 CIDR/),
      ).not.toBeInTheDocument(),
    );
    expect(
      within(form).getByText(/40 is above the ceiling of 30%/),
    ).toBeInTheDocument();
    await userEvent.clear(within(form).getByLabelText('Max blast radius (%)'));
    await userEvent.type(
      within(form).getByLabelText('Max blast radius (%)'),
      '30',
    );

    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByText('squeeze')).toBeInTheDocument();
    expect(backend.experiments[0]).toMatchObject({
      name: 'squeeze',
      faults: [
        {
          type: 'network-bandwidth',
          rateKbit: 256,
          device: 'eth0',
          destinations: {
            cidrs: ['10.96.0.0/12', '192.168.0.0/16'],
            ports: [443],
          },
        },
        { type: 'network-loss', lossPercent: 10 },
      ],
      safety: {
        maxBlastRadiusPercent: 30,
        progressiveSteps: [
          { selection: { mode: 'fixed', count: 1 }, hold: '30s' },
        ],
      },
      hypothesis: {
        probes: [
          {
            type: 'promql',
            name: 'steady-state',
            query: 'sum(rate(errors[1m]))',
            comparison: '<',
            threshold: 0.05,
            checkAt: ['before', 'during', 'after'],
          },
          {
            type: 'http',
            name: 'probe-2',
            url: 'http://checkout.chaos-demo.svc/healthz',
            checkAt: ['during'],
          },
        ],
      },
    });
  });

  it('shows the fields a 400 answer names at their inputs', async () => {
    const backend = fakeBackend();
    backend.failures.set(
      'createExperiment',
      new InputError(
        "Invalid experiment: hypothesis.probes.0.url: 10.0.0.1 is the cluster's API server, which probes may not reach",
      ),
    );
    await renderTab(checkout);
    await waitFor(() =>
      expect(
        screen.getByRole('button', { name: 'New experiment' }),
      ).toBeEnabled(),
    );
    await userEvent.click(
      screen.getByRole('button', { name: 'New experiment' }),
    );
    const form = screen.getByRole('form', { name: 'Experiment' });
    await userEvent.type(within(form).getByLabelText('Name'), 'sneaky');
    await userEvent.click(
      within(form).getByRole('button', { name: 'Add probe' }),
    );
    const probe = within(form).getByRole('group', { name: 'Probe 1' });
    await choose(probe, /^Probe type/, 'HTTP');
    await userEvent.type(
      within(probe).getByLabelText('URL'),
      'https://10.0.0.1/',
    );
    await userEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(
      await within(probe).findByText(/API server, which probes may not reach/),
    ).toBeInTheDocument();
  });

  it('disables changes for people who do not own the entity, and says why', async () => {
    fakeBackend();
    await renderTab(payments, AuthorizeResult.DENY);
    await screen.findByText('No chaos experiments yet');
    await waitFor(() =>
      expect(
        screen.getByRole('button', { name: 'New experiment' }),
      ).toBeDisabled(),
    );
  });

  it('shows a backend error instead of the list', async () => {
    fakeBackend().failures.set(
      'listExperiments',
      new Error('database is down'),
    );
    await renderTab(checkout);
    expect(
      (await screen.findAllByText(/database is down/)).length,
    ).toBeGreaterThan(0);
  });

  /** What the agent answers a dry run with: targets Skipped, the blast radius, reason DryRun. */
  const dryRunOf = (experiment: { id: string }, id: string) =>
    progression(
      aRunDetail({
        id,
        experimentId: experiment.id,
        dryRun: true,
        verdict: 'Inconclusive',
        reason: 'DryRun',
        message:
          'dry run: would disrupt 3 of 10 eligible pods (30%, limit 50%); nothing was touched',
        targets: aRunDetail().targets.map(t => ({
          ...t,
          phase: 'Skipped' as const,
          reason: undefined,
          message: undefined,
        })),
        probes: [],
      }),
      ['Pending', 'Preflight', 'Completed'],
    );

  it('previews a run with a dry run (pods, blast radius against the ceiling, dependents), then runs it live and lists it', async () => {
    const backend = fakeBackend({ experiments: [anExperiment()] });
    backend.nextRun = (experiment, id, dryRun) =>
      dryRun
        ? dryRunOf(experiment, id)
        : progression(aRunDetail({ id, experimentId: experiment.id }), [
            'Pending',
            'Preflight',
            'Running',
            'Completed',
          ]);
    await renderTab(checkout);
    expect(await screen.findByText('No runs yet')).toBeInTheDocument();

    await waitFor(() =>
      expect(screen.getByRole('button', { name: 'Run' })).toBeEnabled(),
    );
    await userEvent.click(screen.getByRole('button', { name: 'Run' }));
    const preview = await screen.findByRole('dialog', {
      name: 'Run kill-one?',
    });
    expect(backend.started).toEqual([{ experimentId: 'exp-1', dryRun: true }]);
    await waitFor(
      () =>
        expect(within(preview).getByTestId('preview-phase')).toHaveTextContent(
          'Completed',
        ),
      { timeout: 10_000 },
    );
    expect(
      within(preview).getByText('A run would hit these pods:'),
    ).toBeInTheDocument();
    expect(within(preview).getByTestId('blast-radius')).toHaveTextContent(
      '3 of 10 pods (30%) · limit 50%',
    );
    expect(
      within(preview).getByTestId('blast-radius-ceiling'),
    ).toHaveTextContent('at most 50% for this entity');
    const targets = within(preview).getByRole('table', { name: 'Targets' });
    expect(within(targets).getAllByText('Skipped')).toHaveLength(3);
    const dependents = await within(preview).findByRole('table', {
      name: 'Dependents',
    });
    expect(within(dependents).getByText('storefront')).toBeInTheDocument();
    expect(within(dependents).getByText('team-orders')).toBeInTheDocument();

    await userEvent.click(
      within(preview).getByRole('button', { name: 'Run now' }),
    );
    expect(backend.started).toEqual([
      { experimentId: 'exp-1', dryRun: true },
      { experimentId: 'exp-1', dryRun: false },
    ]);
    expect(
      await screen.findByRole('heading', { name: 'Run of kill-one' }),
    ).toBeInTheDocument();
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(screen.getByLabelText('search')).toHaveTextContent('?run=run-2');
    await waitFor(
      () =>
        expect(screen.getByTestId('run-phase')).toHaveTextContent('Completed'),
      { timeout: 10_000 },
    );
    expect(
      screen.getByText('3 of 10 pods (30%) · limit 50%'),
    ).toBeInTheDocument();

    await userEvent.click(
      screen.getByRole('button', { name: 'Back to experiments' }),
    );
    const history = await screen.findByRole('table', { name: 'Runs' });
    expect(within(history).getAllByText('kill-one')).toHaveLength(2);
    expect(within(history).getByText(/\(dry run\)/)).toBeInTheDocument();
  });

  it('keeps Run now disabled when the dry run is refused, and says why', async () => {
    const backend = fakeBackend({ experiments: [anExperiment()] });
    backend.nextRun = (experiment, id) => [
      aRunDetail({
        id,
        experimentId: experiment.id,
        dryRun: true,
        phase: 'Failed',
        verdict: 'Refused',
        reason: 'BlastRadiusExceeded',
        message: 'selecting 6 of 10 pods (60%) exceeds the limit of 50%',
        blastRadius: { selected: 6, eligible: 10, percent: 60, limit: 50 },
        targets: [],
      }),
    ];
    await renderTab(checkout);
    await waitFor(() =>
      expect(screen.getByRole('button', { name: 'Run' })).toBeEnabled(),
    );
    await userEvent.click(screen.getByRole('button', { name: 'Run' }));
    const preview = await screen.findByRole('dialog');
    expect(
      await within(preview).findByText('BlastRadiusExceeded'),
    ).toBeInTheDocument();
    expect(
      within(preview).getByRole('button', { name: 'Run now' }),
    ).toBeDisabled();
    await userEvent.click(
      within(preview).getByRole('button', { name: 'Cancel' }),
    );
    expect(backend.started).toEqual([{ experimentId: 'exp-1', dryRun: true }]);
  });

  it('opens a run from the history, and from a link', async () => {
    fakeBackend({
      experiments: [anExperiment()],
      runs: [aRunDetail({ id: 'run-7' })],
    });
    await renderTab(checkout);
    const history = await screen.findByRole('table', { name: 'Runs' });
    await userEvent.click(within(history).getByRole('link'));
    expect(await screen.findByText('checkout-7d9f-a')).toBeInTheDocument();
    expect(screen.getByLabelText('search')).toHaveTextContent('?run=run-7');
  });

  it('opens the run named in the URL', async () => {
    fakeBackend({ runs: [aRunDetail({ id: 'run-7' })] });
    await renderTab(checkout, AuthorizeResult.ALLOW, '?run=run-7');
    expect(await screen.findByTestId('run-phase')).toHaveTextContent(
      'Completed',
    );
  });

  it('disables Run for people who do not own the entity, and says why', async () => {
    const backend = fakeBackend({
      experiments: [anExperiment({ entityRef: 'component:default/payments' })],
    });
    await renderTab(payments, AuthorizeResult.DENY);
    await screen.findByText('kill-one');
    await waitFor(() =>
      expect(screen.getByRole('button', { name: 'Run' })).toBeDisabled(),
    );
    await userEvent.hover(
      screen.getByRole('button', { name: 'Run' }).parentElement!,
    );
    expect(
      await screen.findByText(
        'Only the owners of payments may run its experiments',
      ),
    ).toBeInTheDocument();
    expect(backend.started).toEqual([]);
  });

  it('shows why a run could not start', async () => {
    const backend = fakeBackend({ experiments: [anExperiment()] });
    backend.failures.set(
      'runExperiment',
      new NotAllowedError(
        'only the owners of checkout may run its experiments',
      ),
    );
    await renderTab(checkout);
    await waitFor(() =>
      expect(screen.getByRole('button', { name: 'Run' })).toBeEnabled(),
    );
    await userEvent.click(screen.getByRole('button', { name: 'Run' }));
    expect(
      (await screen.findAllByText(/only the owners of checkout may run/))
        .length,
    ).toBeGreaterThan(0);
  });
});
