import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/**
 * Child processes of the test bed. Every process is started by PID and stopped by that PID;
 * anything still alive when this Node process exits (a failed or interrupted test) is killed
 * from a synchronous exit handler, and network namespaces are deleted there too.
 */

const liveChildren = new Set<ChildProcess>();
const exitCleanups = new Set<() => void>();
let exitHandlerInstalled = false;

function installExitHandler(): void {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  process.once('exit', () => {
    for (const child of liveChildren) {
      if (child.pid !== undefined && child.exitCode === null) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    for (const cleanup of exitCleanups) {
      try {
        cleanup();
      } catch {
        // best effort at exit
      }
    }
  });
}

/** Registers a synchronous cleanup for process exit; returns its unregister function. */
export function onExit(cleanup: () => void): () => void {
  installExitHandler();
  exitCleanups.add(cleanup);
  return () => exitCleanups.delete(cleanup);
}

export interface StartedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** The last lines of its log, for error messages. */
  tail(lines?: number): string;
}

export function startProcess(
  name: string,
  command: string,
  args: string[],
  options: { logDir: string; env?: NodeJS.ProcessEnv; cwd?: string },
): StartedProcess {
  installExitHandler();
  const logFile = path.join(options.logDir, `${name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(command, args, {
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) {
    throw new Error(`could not start ${name} (${command})`);
  }
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  liveChildren.add(child);
  const exited = new Promise<number | null>(resolve => {
    child.once('exit', code => {
      liveChildren.delete(child);
      resolve(code);
    });
  });
  const pid = child.pid;
  return {
    name,
    pid,
    logFile,
    exited,
    async stop(graceMs = 3000) {
      if (child.exitCode !== null || child.signalCode !== null) {
        return;
      }
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      log.end();
    },
    tail(lines = 20) {
      if (!existsSync(logFile)) return '';
      return readFileSync(logFile, 'utf8')
        .trimEnd()
        .split('\n')
        .slice(-lines)
        .join('\n');
    },
  };
}

/** Runs a command to completion; throws with its output when it fails. */
export function run(command: string, args: string[]): string {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    timeout: 15_000,
  });
  if (result.status !== 0) {
    throw new Error(
      `'${command} ${args.join(' ')}' failed (${
        result.status ?? result.signal
      }): ${(
        result.stderr ||
        result.stdout ||
        String(result.error ?? '')
      ).trim()}`,
    );
  }
  return result.stdout;
}

/** A loopback port that was free a moment ago (the kernel picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Thrown from a waitUntil check to give up at once instead of polling on. */
export class StopWaiting extends Error {}

/** Polls `check` until it returns something truthy, or fails after `timeoutMs`. */
export async function waitUntil<T>(
  description: string,
  check: () =>
    | Promise<T | undefined | null | false>
    | T
    | undefined
    | null
    | false,
  {
    timeoutMs = 30_000,
    intervalMs = 100,
  }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      if (error instanceof StopWaiting) throw error;
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause =
        lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${description}${cause}`,
      );
    }
    await new Promise(resolve => setTimeout(resolve, intervalMs));
  }
}

/** node + the Backstage TypeScript transform, to run the test bed's .ts entry points. */
export function nodeTsCommand(script: string): {
  command: string;
  args: string[];
} {
  return {
    command: process.execPath,
    args: [
      '--require',
      require.resolve('@backstage/cli/config/nodeTransform.cjs'),
      script,
    ],
  };
}
