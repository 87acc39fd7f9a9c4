import { ChaosController } from './controller/controller';
import { CONTROLLER_USAGE, parseControllerArgs } from './controllerArgs';
import { createLogger } from './log';
import { NODE_USAGE, parseNodeDaemonArgs, runNodeDaemon } from './node';
import { startTracing } from './tracing';

const USAGE = `usage: chaoscraft-agent <role> [flags]

roles:
  controller   reconcile ChaosRuns (Deployment, leader-elected)
  node         apply network faults on this node (DaemonSet)

${CONTROLLER_USAGE}
${NODE_USAGE}`;

async function runController(argv: string[]): Promise<void> {
  const config = parseControllerArgs(argv);
  const log = createLogger(config.logLevel);
  const tracing = startTracing('chaoscraft-agent-controller');
  let stopping: Promise<void> | undefined;
  const controller = new ChaosController(config, {
    log,
    // As client-go does: a replica that lost the lease exits, and its restart rejoins as standby.
    // That guarantees no reconcile of the old term is still running beside the new leader's.
    onLostLeadership: () => {
      if (!stopping) {
        log.error('lost the leader lease; exiting');
        process.exit(1);
      }
    },
  });
  const shutdown = (signal: string): void => {
    log.info({ signal }, 'shutting down');
    stopping ??= controller.stop().then(
      async () => {
        await tracing?.shutdown();
        process.exit(0);
      },
      error => {
        log.error({ err: String(error) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  await controller.start();
}

async function runNode(argv: string[]): Promise<void> {
  const tracing = startTracing('chaoscraft-agent-node');
  const running = await runNodeDaemon(parseNodeDaemonArgs(argv));
  const stop = (): void => {
    running.stop({ revert: true }).then(
      async () => {
        await tracing?.shutdown();
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/** `chaoscraft-agent <role> [flags]`: one image, two roles. */
export async function main(
  argv: string[] = process.argv.slice(2),
): Promise<void> {
  const [role, ...rest] = argv;
  switch (role) {
    case 'controller':
      return runController(rest);
    case 'node':
      return runNode(rest);
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE);
      return undefined;
    default:
      process.stderr.write(`unknown role '${role ?? ''}'\n\n${USAGE}`);
      process.exit(2);
  }
  return undefined;
}

if (require.main === module) {
  main().catch(error => {
    process.stderr.write(
      `chaoscraft-agent: ${
        error instanceof Error ? error.message : String(error)
      }\n`,
    );
    process.exit(1);
  });
}
