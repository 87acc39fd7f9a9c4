import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Environment variable that points tests at a running sandbox's admin kubeconfig. `make test`
 * (or the Jest globalSetup of this package) starts one sandbox and sets it for the whole run.
 */
export const SANDBOX_KUBECONFIG_ENV = 'CHAOSCRAFT_SANDBOX_KUBECONFIG';

/** A sandbox this process started, and so must stop. */
export interface StartedSandbox {
  /** The sandbox directory (certs, data, logs, pids). */
  readonly dir: string;
  /** Admin kubeconfig (O=system:masters) of the sandbox. */
  readonly kubeconfigPath: string;
}

export interface StartSandboxOptions {
  /** Number of kwok fake nodes. Default 3. */
  nodes?: number;
  /** Directory to run in. Default: a fresh temp dir, removed again on stop. */
  dir?: string;
  /**
   * Whether to start the real node (containerd and a kubelet; docs/sandbox.md): true requires
   * it, false skips it. Default: as SANDBOX_REAL_NODE says (auto, 1, 0) when it is set, else
   * false: the kwok-only suites do not pay for it.
   */
  realNode?: boolean;
}

const SCRIPT_IN_REPO = path.join('infra', 'sandbox', 'sandbox.sh');

/**
 * Path of infra/sandbox/sandbox.sh: CHAOSCRAFT_SANDBOX_SCRIPT if set, else found by walking up
 * from the working directory (Jest runs in the package's directory, inside the repo).
 */
export function sandboxScriptPath(): string {
  const fromEnv = process.env.CHAOSCRAFT_SANDBOX_SCRIPT;
  if (fromEnv) {
    return fromEnv;
  }
  for (let dir = process.cwd(); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, SCRIPT_IN_REPO);
    if (existsSync(candidate)) {
      return candidate;
    }
    if (path.dirname(dir) === dir) {
      throw new Error(
        `${SCRIPT_IN_REPO} not found above ${process.cwd()}; set CHAOSCRAFT_SANDBOX_SCRIPT`,
      );
    }
  }
}

/**
 * Starts a sandbox with `sandbox.sh up`. Its progress goes to this process's stderr. On failure
 * the script has already stopped whatever it started; the temp dir is removed here.
 */
export async function startSandbox(
  options: StartSandboxOptions = {},
): Promise<StartedSandbox> {
  const script = sandboxScriptPath();
  const ownDir = options.dir === undefined;
  const dir =
    options.dir ?? mkdtempSync(path.join(os.tmpdir(), 'chaoscraft-sandbox-'));
  const args = [
    script,
    'up',
    '--dir',
    dir,
    '--nodes',
    String(options.nodes ?? 3),
  ];
  if (options.realNode !== undefined) {
    args.push(options.realNode ? '--real-node' : '--no-real-node');
  } else if (!process.env.SANDBOX_REAL_NODE) {
    args.push('--no-real-node');
  }
  try {
    await runScript(args);
  } catch (error) {
    if (ownDir) {
      rmSync(dir, { recursive: true, force: true });
    }
    throw error;
  }
  return { dir, kubeconfigPath: path.join(dir, 'kubeconfig') };
}

/**
 * Runs sandbox.sh with `args`; rejects unless it exits 0. Its stderr (progress) is this
 * process's; stdout carries only an `export ...` hint and is dropped. The components write to
 * log files, so both pipes close when the script exits.
 */
async function runScript(args: string[]): Promise<void> {
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('bash', args, {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) {
    throw new Error(`'${args.join(' ')}' exited with ${code}`);
  }
}

/** Stops a sandbox with `sandbox.sh down --purge`, removing its directory. */
export async function stopSandbox(sandbox: StartedSandbox): Promise<void> {
  await runScript([
    sandboxScriptPath(),
    'down',
    '--purge',
    '--dir',
    sandbox.dir,
  ]);
}

/** Synchronous stop, for `process.on('exit')` handlers where nothing async can run. */
export function stopSandboxSync(sandbox: StartedSandbox): void {
  spawnSync(
    'bash',
    [sandboxScriptPath(), 'down', '--purge', '--dir', sandbox.dir],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
}

let lazySandbox: Promise<string> | undefined;

/**
 * Path of the admin kubeconfig to test against.
 *
 * Uses CHAOSCRAFT_SANDBOX_KUBECONFIG when set (by `make test` or this package's Jest
 * globalSetup). Otherwise it starts a sandbox for this process once, and stops it when the
 * process exits. That fallback costs one sandbox per Jest worker: configure the globalSetup
 * (see docs/sandbox.md) to share one per run.
 */
export async function sandboxKubeconfigPath(): Promise<string> {
  const fromEnv = process.env[SANDBOX_KUBECONFIG_ENV];
  if (fromEnv) {
    return fromEnv;
  }
  if (!lazySandbox) {
    lazySandbox = (async () => {
      process.stderr.write(
        `test-sandbox: ${SANDBOX_KUBECONFIG_ENV} is not set; starting a sandbox for this process\n`,
      );
      const sandbox = await startSandbox();
      process.once('exit', () => stopSandboxSync(sandbox));
      return sandbox.kubeconfigPath;
    })();
  }
  return lazySandbox;
}
