import { SANDBOX_KUBECONFIG_ENV, stopSandbox } from '../sandbox';

/**
 * Jest globalTeardown: stops the sandbox that globalSetup started, if any. Jest runs it whether
 * tests passed or failed.
 */
export default async function globalTeardown(): Promise<void> {
  const state = globalThis.__chaoscraftTestSandbox;
  if (!state) {
    return;
  }
  globalThis.__chaoscraftTestSandbox = undefined;
  // Disarm the exit and signal handlers first: the sandbox is stopped here, once.
  state.disarmExitHandlers();
  delete process.env[SANDBOX_KUBECONFIG_ENV];
  await stopSandbox(state.sandbox);
}
