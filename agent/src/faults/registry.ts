import type {
  Fault,
  FaultType,
} from '@chaoscraft/backstage-plugin-chaos-common';
import type { NodeCapabilities } from './network/types';
import { NETWORK_FAULTS } from './network/fault';
import { podKill } from './podKill/podKill';
import { STRESS_FAULTS } from './stress/fault';
import {
  ControllerFaultDeps,
  FaultExecutor,
  FaultImplementation,
  FaultModule,
  NodeFaultDeps,
  UnknownFaultTypeError,
} from './types';

/** Every fault the agent can run, one module per type. */
export const FAULT_MODULES: readonly FaultModule[] = [
  podKill,
  ...NETWORK_FAULTS,
  ...STRESS_FAULTS,
];

/**
 * Routes a fault type to its implementation, for one executor: the controller's router holds
 * the controller faults, a node daemon's the node faults. Both know every type's executor, so
 * the controller can tell a node fault (record it, wait for the daemon) from an unknown one.
 */
export class FaultRouter {
  private readonly modules = new Map<string, FaultModule>();
  private readonly implementations = new Map<string, FaultImplementation>();

  private constructor(
    modules: readonly FaultModule[],
    deps:
      | { executor: 'controller'; controller: ControllerFaultDeps }
      | { executor: 'node'; node: NodeFaultDeps },
  ) {
    for (const module of modules) {
      this.modules.set(module.type, module);
      if (module.executor === 'controller' && deps.executor === 'controller') {
        this.implementations.set(module.type, module.create(deps.controller));
      } else if (module.executor === 'node' && deps.executor === 'node') {
        this.implementations.set(module.type, module.create(deps.node));
      }
    }
  }

  /** The controller's faults (through the API server), built with its clients. */
  static forController(
    deps: ControllerFaultDeps,
    modules: readonly FaultModule[] = FAULT_MODULES,
  ): FaultRouter {
    return new FaultRouter(modules, {
      executor: 'controller',
      controller: deps,
    });
  }

  /** A node daemon's faults (inside pods on its node), built with its ledger and resolver. */
  static forNode(
    deps: NodeFaultDeps,
    modules: readonly FaultModule[] = FAULT_MODULES,
  ): FaultRouter {
    return new FaultRouter(modules, { executor: 'node', node: deps });
  }

  /** A module exists for the type (whoever executes it). */
  supports(type: FaultType | string): boolean {
    return this.modules.has(type);
  }

  /** Where the type executes; undefined for an unknown type. */
  executorOf(type: FaultType | string): FaultExecutor | undefined {
    return this.modules.get(type)?.executor;
  }

  /** Why a node with these capabilities cannot run the fault; undefined when it can. */
  unsupportedOn(
    fault: Fault,
    capabilities: NodeCapabilities,
  ): string | undefined {
    const module = this.modules.get(fault.type);
    return module?.executor === 'node'
      ? module.unsupportedOn?.(fault, capabilities)
      : undefined;
  }

  /** @throws UnknownFaultTypeError for an unknown type, or one another executor runs. */
  route(type: FaultType | string): FaultImplementation {
    const implementation = this.implementations.get(type);
    if (!implementation) {
      const executor = this.executorOf(type);
      throw new UnknownFaultTypeError(
        type,
        executor ? `it is executed by the ${executor}, not here` : undefined,
      );
    }
    return implementation;
  }
}
