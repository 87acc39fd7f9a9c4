import type { FaultType } from '@chaoscraft/backstage-plugin-chaos-common';
import { FaultImplementation } from './types';

/**
 * The controller's view of a fault the node daemon executes: the controller only records the
 * target `Selected` with its node, and waits for the daemon's `Injected`/`Recovered`. Calling
 * apply or recover here is a programming error, hence the throw.
 */
export function nodeDaemonFault(type: FaultType): FaultImplementation {
  const refuse = (): never => {
    throw new Error(`fault '${type}' is executed by the node daemon, not by the controller`);
  };
  return { type, executor: 'node', apply: async () => refuse(), recover: async () => refuse() };
}
