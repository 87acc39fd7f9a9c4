import type {
  Fault,
  FaultOfType,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { Ledger, type LedgerEntry, targetKey } from '../../node/Ledger';
import { NetnsNotFoundError } from '../../node/netns';
import type {
  FaultImplementation,
  FaultModule,
  FaultOutcome,
  NodeFaultDeps,
} from '../types';
import { cgroupsOf } from './cgroups';
import { startStressor, stopStressor } from './stressor';

type StressFault = FaultOfType<'cpu-stress'> | FaultOfType<'memory-stress'>;

/** What a stress fault leaves in the ledger: the marker its processes carry. */
export interface StressProcessObject {
  kind: 'process';
  marker: string;
}

/** stress-ng's arguments for a fault; `timeoutSeconds` bounds it if nothing else stops it. */
export function stressArgv(
  fault: StressFault,
  timeoutSeconds: number,
): string[] {
  const common = [
    '--timeout',
    `${timeoutSeconds}s`,
    '--temp-path',
    '/tmp',
    '--quiet',
  ];
  if (fault.type === 'cpu-stress') {
    return [
      'stress-ng',
      '--cpu',
      String(fault.workers),
      '--cpu-load',
      String(fault.loadPercent),
      ...common,
    ];
  }
  // --vm-keep: allocate once and keep touching it, rather than freeing and re-allocating.
  return [
    'stress-ng',
    '--vm',
    String(fault.workers),
    '--vm-bytes',
    `${Math.ceil(fault.megabytes / fault.workers)}M`,
    '--vm-keep',
    ...common,
  ];
}

function describe(fault: StressFault): string {
  return fault.type === 'cpu-stress'
    ? `${fault.workers} CPU worker(s) at ${fault.loadPercent}%`
    : `${fault.megabytes} MiB over ${fault.workers} worker(s)`;
}

/**
 * A stress fault: stress-ng in the target container's own cgroups (found from its main process
 * through the container runtime), so the load is counted and limited like the app's, as Chaos
 * Mesh's StressChaos does. The ledger holds the marker of its processes before they start; a
 * restarted daemon's janitor stops them by that marker.
 */
function stressFault(type: StressFault['type']): FaultModule {
  return {
    type,
    executor: 'node',
    unsupportedOn: (_fault, capabilities) =>
      capabilities.stressNg
        ? undefined
        : 'stress-ng is not available to the node daemon',
    create(deps: NodeFaultDeps): FaultImplementation {
      const cgroupRoot = deps.cgroupRoot ?? '/sys/fs/cgroup';
      const procRoot = deps.procRoot ?? '/proc';
      const keyOf = (
        runUid: string,
        target: { namespace: string; pod: string },
      ) =>
        targetKey({
          runUid,
          podNamespace: target.namespace,
          pod: target.pod,
          fault: type,
        });
      async function stop(entry: LedgerEntry): Promise<number> {
        let killed = 0;
        for (const object of entry.objects) {
          if (object.kind === 'process')
            killed += await stopStressor(object.marker, procRoot);
        }
        await deps.ledger.recordDone(entry.id, `${killed} process(es) stopped`);
        return killed;
      }
      return {
        type,
        executor: 'node',
        async apply(target, fault: Fault, context): Promise<FaultOutcome> {
          const stress = fault as StressFault;
          const key = keyOf(context.run.uid, target);
          const existing = deps.ledger.entryForKey(key);
          if (existing?.appliedAt) {
            return {
              phase: 'Injected',
              reason: 'Injected',
              message: `${type} already running (${describe(stress)})`,
              eventType: 'Warning',
            };
          }
          if (existing) await stop(existing);
          try {
            const process = await deps.resolver.resolveProcess({
              namespace: target.namespace,
              name: target.pod,
              uid: target.uid,
              container: target.container,
            });
            const cgroups = await cgroupsOf(process.pid, procRoot);
            const id = Ledger.newEntryId();
            const entry: LedgerEntry = {
              id,
              key,
              run: context.run,
              target: {
                podNamespace: target.namespace,
                pod: target.pod,
                podUid: target.uid,
                fault: type,
              },
              objects: [{ kind: 'process', marker: id }],
              notes: [],
              intentAt: new Date().toISOString(),
            };
            await deps.ledger.recordIntent(entry);
            const timeoutSeconds = Math.max(
              1,
              Math.ceil((context.deadlineMs ?? 3_600_000) / 1000),
            );
            let started;
            try {
              started = await startStressor({
                argv: stressArgv(stress, timeoutSeconds),
                marker: id,
                cgroups,
                cgroupRoot,
              });
            } catch (error) {
              await stop(entry);
              throw error;
            }
            await deps.ledger.recordApplied(id);
            const cpu =
              cgroups.find(c => c.controllers.split(',').includes('cpu')) ??
              cgroups[0];
            context.log.info(
              {
                pod: target.pod,
                fault: type,
                pid: started.pid,
                cgroups: started.joined,
              },
              `injected ${type} on ${target.pod}`,
            );
            return {
              phase: 'Injected',
              reason: 'Injected',
              message: `${describe(stress)} in the cgroups of ${process.via} ${
                process.pid
              } (${cpu ? cpu.path : '?'})`,
              eventType: 'Warning',
            };
          } catch (error) {
            const reason =
              error instanceof NetnsNotFoundError
                ? 'ContainerNotFound'
                : 'StressFailed';
            const message =
              error instanceof Error ? error.message : String(error);
            context.log.warn(
              { pod: target.pod, fault: type, reason, err: error },
              `injection failed: ${message}`,
            );
            return { phase: 'Failed', reason, message, eventType: 'Warning' };
          }
        },
        async recover(target, context): Promise<FaultOutcome | undefined> {
          const entry = deps.ledger.entryForKey(keyOf(context.run.uid, target));
          if (!entry) return undefined;
          const killed = await stop(entry);
          return {
            phase: 'Recovered',
            reason: 'ChaosRecovered',
            message: `${type} stopped (${killed} process(es))`,
            eventType: 'Normal',
          };
        },
      };
    },
  };
}

export const STRESS_FAULTS: FaultModule[] = [
  stressFault('cpu-stress'),
  stressFault('memory-stress'),
];
