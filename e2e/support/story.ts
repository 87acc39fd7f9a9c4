/**
 * What the browser stories share: headless Chromium as our machines have it (Debian's, or
 * CHROMIUM_PATH), and steps that stop a story at its first failure with a screenshot.
 */
import type { TestContext } from 'node:test';
import { Browser, Page, chromium } from 'playwright-core';

/** Launches headless Chromium and opens one page, with the stories' viewport and timeout. */
export async function launchStoryBrowser(): Promise<{
  browser: Browser;
  page: Page;
}> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = await browser.newPage({
    viewport: { width: 1440, height: 1000 },
  });
  page.setDefaultTimeout(30_000);
  return { browser, page };
}

/**
 * Returns `step(name, fn, needs?)`: a subtest of `t` that runs `fn`. Each step needs the ones
 * before it: after a failure the rest are skipped, naming the step that failed, and the failure
 * leaves a screenshot (`failed-<step>`). `needs` skips a step with that reason.
 */
export function storySteps(
  t: TestContext,
  shot: (name: string) => Promise<void>,
) {
  let broken: string | false = false;
  return (
    name: string,
    fn: () => Promise<void>,
    needs: string | false = false,
  ) =>
    t.test(
      name,
      { skip: (broken && `an earlier step failed: ${broken}`) || needs },
      async () => {
        try {
          await fn();
        } catch (error) {
          broken = name;
          await shot(`failed-${name.replace(/\W+/g, '-')}`).catch(
            () => undefined,
          );
          throw error;
        }
      },
    );
}
