import os from 'node:os';
import {
  SANDBOX_KUBECONFIG_ENV,
  StartedSandbox,
  startSandbox,
  stopSandboxSync,
} from '../sandbox';

/**
 * State shared with globalTeardown: both run in Jest's parent process, so a global is the
 * channel Jest documents for this.
 */
export interface GlobalSandboxState {
  sandbox: StartedSandbox;
  /** Removes the exit and signal handlers that stop the sandbox if the run dies early. */
  disarmExitHandlers: () => void;
}

declare global {
  // eslint-disable-next-line no-var
  var __chaoscraftTestSandbox: GlobalSandboxState | undefined;
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Jest globalSetup: starts one sandbox for the whole run unless CHAOSCRAFT_SANDBOX_KUBECONFIG
 * already names one. Test workers are forked after this returns, so they inherit the variable.
 *
 * Use it from another package's package.json:
 *   "jest": {
 *     "globalSetup": "@chaoscraft/test-sandbox/src/jest/globalSetup.ts",
 *     "globalTeardown": "@chaoscraft/test-sandbox/src/jest/globalTeardown.ts"
 *   }
 */
export default async function globalSetup(): Promise<void> {
  if (process.env[SANDBOX_KUBECONFIG_ENV]) {
    return;
  }
  const nodes = Number(process.env.SANDBOX_NODES ?? '3');
  const sandbox = await startSandbox({ nodes });
  process.env[SANDBOX_KUBECONFIG_ENV] = sandbox.kubeconfigPath;

  let stopped = false;
  const stopOnce = (): void => {
    if (!stopped) {
      stopped = true;
      stopSandboxSync(sandbox);
    }
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    stopOnce();
    // The shell convention for "killed by signal N".
    process.exit(128 + os.constants.signals[signal]);
  };
  process.once('exit', stopOnce);
  for (const signal of SIGNALS) {
    process.once(signal, onSignal);
  }
  globalThis.__chaoscraftTestSandbox = {
    sandbox,
    disarmExitHandlers: () => {
      process.removeListener('exit', stopOnce);
      for (const signal of SIGNALS) {
        process.removeListener(signal, onSignal);
      }
      stopped = true;
    },
  };
}
