import { FAULT_TYPES } from '@chaoscraft/backstage-plugin-chaos-common';
import { nodeDaemonFault } from './nodeDaemonFault';
import { podKillFault } from './podKill/podKill';
import { FaultRouter } from './router';

export { FaultRouter } from './router';
export { UnknownFaultTypeError } from './types';
export type { FaultContext, FaultImplementation, FaultOutcome, FaultTarget } from './types';

/**
 * The controller's router: pod-kill runs here; network faults belong to the node daemons.
 * cpu-stress has no implementation yet, so runs using it are refused at preflight.
 */
export function controllerFaultRouter(): FaultRouter {
  const router = new FaultRouter().register(podKillFault());
  for (const type of FAULT_TYPES) {
    if (type.startsWith('network-')) {
      router.register(nodeDaemonFault(type));
    }
  }
  return router;
}
