import { execFile } from 'node:child_process';

/** What one command printed and how it ended. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A command that ended with a non-zero status; carries what it printed for the reason. */
export class CommandError extends Error {
  readonly argv: readonly string[];
  readonly code: number;
  readonly stderr: string;

  constructor(argv: readonly string[], result: CommandResult) {
    const detail = (result.stderr || result.stdout).trim().split('\n')[0] ?? '';
    super(`'${argv.join(' ')}' exited with ${result.code}: ${detail}`);
    this.name = 'CommandError';
    this.argv = argv;
    this.code = result.code;
    this.stderr = result.stderr;
  }
}

/**
 * Runs commands inside one network namespace. Every tc and iptables call of the network faults
 * goes through this, so a fault never touches the node's own namespace by accident.
 */
export interface NetnsCommands {
  /** The namespace this runs in, e.g. /proc/1234/ns/net or /var/run/netns/x. */
  readonly netnsPath: string;
  /**
   * Runs argv in the namespace, `input` on its stdin; resolves whatever the exit status (see
   * `check`).
   */
  run(argv: readonly string[], input?: string): Promise<CommandResult>;
}

const COMMAND_TIMEOUT_MS = 15_000;

/** Runs a program on the node (no namespace switch); resolves whatever the exit status. */
export function runCommand(
  file: string,
  args: readonly string[],
  timeoutMs = COMMAND_TIMEOUT_MS,
  input?: string,
): Promise<CommandResult> {
  return new Promise(resolve => {
    const child = execFile(
      file,
      args as string[],
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (!error) {
          resolve({ code: 0, stdout, stderr });
          return;
        }
        const code = typeof error.code === 'number' ? error.code : 127;
        resolve({
          code,
          stdout: stdout ?? '',
          stderr: stderr || error.message,
        });
      },
    );
    if (input !== undefined) {
      // A program that exits without reading its input must not fail the write (EPIPE).
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(input);
    }
  });
}

/**
 * `nsenter --net=PATH -- argv`: enters only the network namespace, so the node's tc and
 * iptables binaries (and their xtables lock) are used on the pod's interfaces and tables.
 * Works with both /proc/PID/ns/net and `ip netns` bind mounts.
 */
export class NsenterCommands implements NetnsCommands {
  constructor(
    readonly netnsPath: string,
    private readonly nsenter: string = 'nsenter',
  ) {}

  run(argv: readonly string[], input?: string): Promise<CommandResult> {
    return runCommand(
      this.nsenter,
      [`--net=${this.netnsPath}`, '--', ...argv],
      COMMAND_TIMEOUT_MS,
      input,
    );
  }
}

/** Runs argv and throws a CommandError unless it exits 0. */
export async function check(
  commands: NetnsCommands,
  argv: readonly string[],
): Promise<CommandResult> {
  const result = await commands.run(argv);
  if (result.code !== 0) {
    throw new CommandError(argv, result);
  }
  return result;
}
