import { netemOnlyFault } from './netemOnly';
import { percent } from './types';

/** netem corrupt (single bit errors). */
export const networkCorrupt = netemOnlyFault('network-corrupt', fault => [
  'corrupt',
  percent(fault.corruptPercent),
]);
