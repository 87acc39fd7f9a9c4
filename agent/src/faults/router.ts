import type { Fault, FaultType } from '@chaoscraft/backstage-plugin-chaos-common';
import { FaultImplementation, UnknownFaultTypeError } from './types';

/** Routes a fault to its implementation by type. */
export class FaultRouter {
  private readonly byType = new Map<string, FaultImplementation>();

  register<F extends Fault>(implementation: FaultImplementation<F>): this {
    this.byType.set(implementation.type, implementation as unknown as FaultImplementation);
    return this;
  }

  supports(type: FaultType | string): boolean {
    return this.byType.has(type);
  }

  /** @throws UnknownFaultTypeError when no implementation is registered for the type. */
  route<F extends Fault>(type: F['type']): FaultImplementation<F> {
    const implementation = this.byType.get(type);
    if (!implementation) {
      throw new UnknownFaultTypeError(type);
    }
    return implementation as unknown as FaultImplementation<F>;
  }
}
