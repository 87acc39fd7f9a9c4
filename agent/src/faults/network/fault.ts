import type { NetworkFault } from '@chaoscraft/backstage-plugin-chaos-common';
import { NetnsNotFoundError } from '../../node/netns';
import type { FaultImplementation, FaultModule, FaultOutcome } from '../types';
import { CommandError } from './exec';
import { InjectionRefusedError, NetworkInjector } from './injector';
import { objectNames, targetKey } from './names';
import { NETWORK_FAULT_PLANNERS, planNetworkFault } from './planners';
import { FaultUnsupportedError, NetworkFaultType } from './types';

/** A CamelCase reason and a sentence for a failed network injection. */
export function explainNetworkFailure(error: unknown): {
  reason: string;
  message: string;
} {
  if (
    error instanceof FaultUnsupportedError ||
    error instanceof InjectionRefusedError
  ) {
    return { reason: error.reason, message: error.message };
  }
  if (error instanceof NetnsNotFoundError) {
    return { reason: 'NetnsNotFound', message: error.message };
  }
  if (error instanceof CommandError) {
    if (
      /NLM_F_REPLACE|Exclusivity flag|File exists|Chain already exists/i.test(
        error.stderr,
      )
    ) {
      return {
        reason: 'DeviceBusy',
        message: `another qdisc or chain is already in place (another fault?): ${error.message}`,
      };
    }
    if (/Cannot find device/i.test(error.stderr)) {
      return { reason: 'DeviceNotFound', message: error.message };
    }
    return { reason: 'CommandFailed', message: error.message };
  }
  return { reason: 'InjectionFailed', message: String(error) };
}

/**
 * A network fault: its planner decides the kernel objects (tc, iptables); applying them in the
 * target pod's network namespace and removing them again is the same for every network fault,
 * through the ledger (NetworkInjector).
 */
function networkFault(type: NetworkFaultType): FaultModule {
  return {
    type,
    executor: 'node',
    unsupportedOn(fault, capabilities) {
      // The planner is what refuses (e.g. latency without netem): ask it with this node's capabilities.
      try {
        planNetworkFault(fault as NetworkFault, {
          names: objectNames('preflight'),
          capabilities,
        });
        return undefined;
      } catch (error) {
        if (error instanceof FaultUnsupportedError) return error.message;
        throw error;
      }
    },
    create(deps): FaultImplementation {
      const injector = new NetworkInjector(deps);
      const keyOf = (
        target: { namespace: string; pod: string },
        runUid: string,
      ) =>
        targetKey({
          runUid,
          podNamespace: target.namespace,
          pod: target.pod,
          fault: type,
        });
      return {
        type,
        executor: 'node',
        async apply(target, fault, context): Promise<FaultOutcome> {
          try {
            const applied = await injector.apply({
              run: context.run,
              podNamespace: target.namespace,
              pod: target.pod,
              podUid: target.uid,
              container: target.container,
              fault: fault as NetworkFault,
            });
            const fallback = applied.notes.some(note =>
              note.startsWith('netem unavailable'),
            );
            context.log.info(
              {
                pod: target.pod,
                fault: type,
                netns: applied.netns?.path,
                objects: applied.objects,
              },
              `injected ${type} on ${target.pod}`,
            );
            return {
              phase: 'Injected',
              reason: fallback ? 'InjectedWithFallback' : 'Injected',
              message: `${type} in ${applied.netns?.path}${
                applied.notes.length ? `; ${applied.notes.join('; ')}` : ''
              }`,
              eventType: 'Warning',
            };
          } catch (error) {
            const { reason, message } = explainNetworkFailure(error);
            context.log.warn(
              { pod: target.pod, fault: type, reason, err: error },
              `injection failed: ${message}`,
            );
            return { phase: 'Failed', reason, message, eventType: 'Warning' };
          }
        },
        async recover(target, context): Promise<FaultOutcome | undefined> {
          const entry = deps.ledger.entryForKey(keyOf(target, context.run.uid));
          if (!entry) return undefined;
          const outcome = await injector.recover(entry);
          return {
            phase: 'Recovered',
            reason: 'ChaosRecovered',
            message:
              outcome === 'netns-gone'
                ? 'the pod network namespace is gone'
                : `${type} removed (${entry.objects.length} kernel object${
                    entry.objects.length === 1 ? '' : 's'
                  })`,
            eventType: 'Normal',
          };
        },
      };
    },
  };
}

/** One module per network fault type. */
export const NETWORK_FAULTS: FaultModule[] = (
  Object.keys(NETWORK_FAULT_PLANNERS) as NetworkFaultType[]
).map(networkFault);
