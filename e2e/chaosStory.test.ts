/**
 * The whole ChaosCraft story in a real browser, against a running `make dev` stack
 * (scripts/test-e2e.sh starts one): sign in as guest, open the checkout service's Chaos tab,
 * create and run a pod-kill of 30% of its 10 pods under a 50% limit, watch it complete, check in
 * the cluster that the pods were replaced, then see a 60% experiment refused for its blast radius,
 * the same pods on the entity's Kubernetes tab (the Kubernetes plugin reads the same cluster),
 * the experiment kept as code next to checkout's catalog file, and a pod-kill experiment added
 * from /create with the software template.
 * Each step leaves a screenshot in E2E_OUTPUT_DIR.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchStoryBrowser, storySteps } from './support/story';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';

const APP = process.env.E2E_APP_URL ?? 'http://localhost:3000';
const OUT = process.env.E2E_OUTPUT_DIR ?? path.resolve('test-results/e2e');
const NAMESPACE = 'chaos-demo';
const suffix = Date.now().toString(36);

let browser: Browser;
let page: Page;

async function shot(name: string): Promise<void> {
  await page.screenshot({
    path: path.join(OUT, `${name}.png`),
    fullPage: true,
  });
}

async function runningCheckoutPods(): Promise<string[]> {
  const kc = new KubeConfig();
  kc.loadFromFile(process.env.E2E_KUBECONFIG!);
  const pods = await kc
    .makeApiClient(CoreV1Api)
    .listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'app=checkout' });
  return pods.items
    .filter(
      p => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp,
    )
    .map(p => p.metadata!.name!);
}

async function createExperiment(
  name: string,
  percent: number,
  limit: number,
): Promise<void> {
  await page.getByRole('button', { name: 'New experiment' }).click();
  const form = page.getByRole('dialog');
  await form.getByLabel('Name', { exact: true }).fill(name);
  await form.getByLabel('Duration', { exact: true }).fill('5s');
  await form.getByLabel('Select', { exact: true }).click();
  await page.getByRole('option', { name: 'a percentage' }).click();
  await form
    .getByLabel('Percent of pods', { exact: true })
    .fill(String(percent));
  await form
    .getByLabel('Max blast radius (%)', { exact: true })
    .fill(String(limit));
  await form.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('cell', { name, exact: true }).waitFor();
}

/** Presses Run: the preview opens and follows the dry run to its end; returns the dialog. */
async function previewExperiment(name: string) {
  const row = page
    .getByRole('row')
    .filter({ has: page.getByRole('cell', { name, exact: true }) });
  await row.getByRole('button', { name: 'Run', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: `Run ${name}?` });
  await dialog
    .getByTestId('preview-phase')
    .filter({ hasText: /Completed|Failed|Aborted/ })
    .waitFor({ timeout: 120_000 });
  return dialog;
}

/** Runs an experiment: Run, the preview's dry run, then Run now. */
async function runExperiment(name: string): Promise<void> {
  const dialog = await previewExperiment(name);
  await dialog.getByRole('button', { name: 'Run now' }).click();
}

before(async () => {
  ({ browser, page } = await launchStoryBrowser());
});

after(async () => {
  await browser?.close();
});

test('the chaos story, end to end', async t => {
  const step = storySteps(t, shot);

  await step(
    'signs in as guest and opens the Chaos tab of checkout',
    async () => {
      // The guest session lives in the page: sign in on the deep link, then navigate in-app.
      await page.goto(`${APP}/catalog/default/component/checkout/chaos`);
      await page
        .getByRole('button', { name: /enter/i })
        .click({ timeout: 120_000 });
      await page
        .getByRole('button', { name: 'New experiment' })
        .waitFor({ timeout: 120_000 });
      await shot('1-chaos-tab');
    },
  );

  const before30 = await runningCheckoutPods();
  const kill30 = `kill-30-${suffix}`;

  await step(
    'creates a 30% pod-kill under a 50% limit and runs it',
    async () => {
      await createExperiment(kill30, 30, 50);
      await shot('2-experiment-created');
      await runExperiment(kill30);
    },
  );

  let killed: string[] = [];
  await step(
    'sees it complete, three targets, and 3 of 10 against the 50% limit',
    async () => {
      await page
        .getByTestId('run-phase')
        .filter({ hasText: 'Completed' })
        .waitFor({ timeout: 120_000 });
      const gauge = await page.getByTestId('blast-radius').textContent();
      assert.match(gauge ?? '', /^3 of 10 pods \(30%\) · limit 50%$/);
      const targets = page
        .getByRole('table', { name: 'Targets' })
        .locator('tbody tr');
      assert.equal(await targets.count(), 3);
      killed = await targets.evaluateAll(rows =>
        rows.map(r => (r.querySelector('td')?.textContent ?? '').trim()),
      );
      assert.ok(
        killed.every(pod => pod.startsWith('checkout-')),
        `target pods: ${killed.join(', ')}`,
      );
      await shot('3-run-completed');
    },
  );

  await step('finds the killed pods replaced in the sandbox', async () => {
    assert.equal(killed.length, 3, 'the run reported its three targets');
    assert.ok(
      killed.every(pod => before30.includes(pod)),
      'targets were running checkout pods',
    );
    const deadline = Date.now() + 60_000;
    let pods = await runningCheckoutPods();
    while (
      !(pods.length === 10 && killed.every(pod => !pods.includes(pod))) &&
      Date.now() < deadline
    ) {
      await new Promise(resolve => setTimeout(resolve, 1000));
      pods = await runningCheckoutPods();
    }
    assert.equal(pods.length, 10);
    assert.deepEqual(
      killed.filter(pod => pods.includes(pod)),
      [],
    );
  });

  await step(
    'sees a 60% experiment refused for its blast radius before anything runs',
    async () => {
      await page.getByRole('button', { name: 'Back to experiments' }).click();
      const kill60 = `kill-60-${suffix}`;
      await createExperiment(kill60, 60, 50);
      // The preview's dry run goes through the agent's admission and preflight: refused, and Run
      // now stays disabled.
      const dialog = await previewExperiment(kill60);
      const text = (await dialog.textContent()) ?? '';
      assert.match(text, /BlastRadiusExceeded/);
      assert.match(
        text,
        /6 of 10 eligible pods is 60%, above the limit of 50%/,
      );
      assert.equal(
        await dialog.getByRole('button', { name: 'Run now' }).isEnabled(),
        false,
      );
      await shot('4-run-refused');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
    },
  );

  await step(
    'sees the same pods on the Kubernetes tab, from the cluster config both plugins share',
    async () => {
      await page
        .getByRole('tab', { name: 'Kubernetes' })
        .or(page.getByRole('link', { name: 'Kubernetes', exact: true }))
        .first()
        .click();
      await page
        .getByText('Local sandbox (make dev)')
        .waitFor({ timeout: 60_000 });
      await page.getByText('10 pods').waitFor({ timeout: 60_000 });
      await page.getByText('No pods with errors').waitFor();
      await shot('5-kubernetes-tab');
    },
  );

  await step(
    'sees the experiment kept as code next to checkout: read-only, with its source',
    async () => {
      await page
        .getByRole('tab', { name: 'Chaos' })
        .or(page.getByRole('link', { name: 'Chaos', exact: true }))
        .first()
        .click();
      const row = page.getByRole('row').filter({
        has: page.getByRole('cell', {
          name: 'code-kill-one-pod',
          exact: true,
        }),
      });
      await row.getByTestId('managed-by').waitFor();
      assert.match(
        (await row.getByTestId('managed-by').getAttribute('aria-label')) ?? '',
        /^Kept as code: file:\/\/.*\/examples\/catalog\/chaos\/checkout\/kill-one-pod\.yaml\./,
      );
      assert.equal(await row.getByRole('button', { name: 'Edit' }).count(), 0);
      assert.equal(
        await row.getByRole('button', { name: 'Run', exact: true }).isEnabled(),
        true,
      );
      await shot('6-kept-as-code');
    },
  );

  await step(
    'adds a pod-kill experiment from /create with the template, and lands on its Chaos tab',
    async () => {
      const name = `tpl-kill-${suffix}`;
      await page.getByRole('link', { name: 'Create' }).first().click();
      const card = page
        .getByText('Add a pod-kill experiment to a service', { exact: true })
        .locator('xpath=ancestor::*[contains(@class, "MuiCard-root")][1]');
      await card.getByRole('button', { name: /choose/i }).click();
      const service = page.getByLabel('Service', { exact: false }).first();
      await service.click();
      await service.fill('checkout');
      await page
        .getByRole('option', { name: /checkout/ })
        .first()
        .click();
      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByLabel('Name', { exact: false }).first().fill(name);
      await page.getByRole('button', { name: 'Review' }).click();
      await shot('7-template-review');
      await page.getByRole('button', { name: 'Create' }).click();
      const open = page
        .getByRole('link', { name: 'Open the Chaos tab' })
        .or(page.getByRole('button', { name: 'Open the Chaos tab' }));
      await open.first().waitFor({ timeout: 120_000 });
      await shot('8-template-done');
      await open.first().click();
      // The experiment is listed, and the template's preview (a dry run) is in the history too.
      const rows = page
        .getByRole('row')
        .filter({ has: page.getByRole('cell', { name, exact: true }) });
      await rows.first().waitFor();
      await rows.filter({ hasText: '(dry run)' }).first().waitFor();
      await shot('9-template-experiment');
    },
  );
});
