import { netemOnlyFault } from './netemOnly';
import { percent } from './types';

/** netem duplicate. */
export const networkDuplicate = netemOnlyFault('network-duplicate', fault => [
  'duplicate',
  percent(fault.duplicatePercent),
]);
