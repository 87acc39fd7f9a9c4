import { parseNodeDaemonArgs, runNodeDaemon } from './runNodeDaemon';

/**
 * Runs the node role from a command line: `node main.ts [flags]`. Used by tests that need the
 * daemon as a child process they can SIGKILL; production goes through `chaoscraft-agent node`.
 * SIGTERM/SIGINT remove every fault this node holds, then exit (see NodeDaemon.stop).
 */
async function main(): Promise<void> {
  const running = await runNodeDaemon(
    parseNodeDaemonArgs(process.argv.slice(2)),
  );
  const stop = (): void => {
    void running.stop({ revert: true }).finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch(error => {
  process.stderr.write(
    `chaoscraft-node: ${
      error instanceof Error ? error.stack : String(error)
    }\n`,
  );
  process.exit(1);
});
