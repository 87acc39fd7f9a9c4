import {
  faultSchema,
  isNetworkFault,
  NetworkFault,
} from '@chaoscraft/backstage-plugin-chaos-common';

/** A network fault with the model's defaults applied, as the daemon sees it after parsing. */
export function networkFaultSchemaFor(
  input: Record<string, unknown> & { type: string },
): NetworkFault {
  const fault = faultSchema.parse(input);
  if (!isNetworkFault(fault)) {
    throw new Error(`${input.type} is not a network fault`);
  }
  return fault;
}
