import { z } from 'zod';

const cidrSchema = z
  .string()
  .regex(
    /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\/(\d|[12]\d|3[0-2])$/,
    'must be an IPv4 CIDR such as 10.0.0.0/8',
  );
const portSchema = z.number().int().min(1).max(65535);
const percentSchema = z.number().min(0).max(100);

/**
 * The node daemon runs one tc filter or iptables rule per (CIDR, port) pair: the product is what
 * costs, so it has its own bound besides each list's.
 */
export const MAX_DESTINATION_CIDRS = 32;
export const MAX_DESTINATION_PORTS = 32;
export const MAX_DESTINATION_PAIRS = 64;

/**
 * Which traffic a network fault touches. Without destinations every packet leaving the pod
 * is affected; with them only traffic to those CIDRs (and ports) is.
 */
const networkScope = {
  /**
   * Interface inside the pod's network namespace: a Linux interface name (1-15 characters,
   * no '/', whitespace or quotes), since it ends up in tc and iptables arguments.
   */
  device: z
    .string()
    .min(1)
    .max(15)
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9_.@:-]*$/,
      'must be a network interface name such as eth0 (letters, digits, _ . @ : -)',
    )
    .default('eth0'),
  destinations: z
    .object({
      cidrs: z.array(cidrSchema).min(1).max(MAX_DESTINATION_CIDRS),
      ports: z.array(portSchema).max(MAX_DESTINATION_PORTS).optional(),
    })
    .refine(
      d =>
        d.cidrs.length * Math.max(1, d.ports?.length ?? 0) <=
        MAX_DESTINATION_PAIRS,
      {
        message: `cidrs × ports must be at most ${MAX_DESTINATION_PAIRS} (one tc/iptables rule per pair)`,
      },
    )
    .meta({
      'x-kubernetes-validations': [
        {
          rule: `size(self.cidrs) * (has(self.ports) && size(self.ports) > 0 ? size(self.ports) : 1) <= ${MAX_DESTINATION_PAIRS}`,
          message: `cidrs × ports must be at most ${MAX_DESTINATION_PAIRS}`,
        },
      ],
    })
    .optional(),
};

export const podKillFaultSchema = z.object({
  type: z.literal('pod-kill'),
  /** Grace period handed to the delete or eviction; 0 kills at once. */
  gracePeriodSeconds: z.number().int().min(0).max(3600).default(0),
});

export const networkLatencyFaultSchema = z.object({
  type: z.literal('network-latency'),
  ...networkScope,
  latencyMs: z.number().int().min(1).max(60_000),
  jitterMs: z.number().int().min(0).max(60_000).default(0),
  correlationPercent: percentSchema.default(0),
});

export const networkLossFaultSchema = z.object({
  type: z.literal('network-loss'),
  ...networkScope,
  lossPercent: z.number().min(0.01).max(100),
  correlationPercent: percentSchema.default(0),
});

export const networkDuplicateFaultSchema = z.object({
  type: z.literal('network-duplicate'),
  ...networkScope,
  duplicatePercent: z.number().min(0.01).max(100),
});

export const networkCorruptFaultSchema = z.object({
  type: z.literal('network-corrupt'),
  ...networkScope,
  corruptPercent: z.number().min(0.01).max(100),
});

export const networkBandwidthFaultSchema = z.object({
  type: z.literal('network-bandwidth'),
  ...networkScope,
  rateKbit: z.number().int().min(8).max(100_000_000),
  /** Token bucket size; default leaves it to the daemon (a few MTUs, at least rate/HZ). */
  burstBytes: z.number().int().min(1500).max(1_000_000_000).optional(),
  limitBytes: z.number().int().min(1500).max(1_000_000_000).optional(),
});

export const networkPartitionFaultSchema = z.object({
  type: z.literal('network-partition'),
  ...networkScope,
  direction: z.enum(['egress', 'ingress', 'both']).default('both'),
});

/** CPU load inside the target container's cgroups (stress-ng --cpu), counted as the app's. */
export const cpuStressFaultSchema = z.object({
  type: z.literal('cpu-stress'),
  workers: z.number().int().min(1).max(64).default(1),
  loadPercent: z.number().int().min(1).max(100).default(100),
});

/**
 * Memory held inside the target container's cgroups (stress-ng --vm, kept and touched), counted
 * against the container's memory limit as the app's own would be.
 */
export const memoryStressFaultSchema = z.object({
  type: z.literal('memory-stress'),
  workers: z.number().int().min(1).max(16).default(1),
  megabytes: z.number().int().min(1).max(65_536),
});

export const faultSchema = z.discriminatedUnion('type', [
  podKillFaultSchema,
  networkLatencyFaultSchema,
  networkLossFaultSchema,
  networkDuplicateFaultSchema,
  networkCorruptFaultSchema,
  networkBandwidthFaultSchema,
  networkPartitionFaultSchema,
  cpuStressFaultSchema,
  memoryStressFaultSchema,
]);

export type Fault = z.infer<typeof faultSchema>;
export type FaultType = Fault['type'];
export type FaultOfType<T extends FaultType> = Extract<Fault, { type: T }>;
export type NetworkFault = Extract<Fault, { type: `network-${string}` }>;

export const FAULT_TYPES = faultSchema.options.map(
  option => option.shape.type.value,
) as [FaultType, ...FaultType[]];
export const faultTypeSchema = z.enum(FAULT_TYPES);

/**
 * A run's faults: at most one of each type. Target records name their fault by type
 * (`record.fault`), so two faults of one type could not be told apart; scope one fault to several
 * destinations instead, or use two experiments. The CRD states the same rule as a list-map keyed
 * on `type`, so the API server refuses a duplicate too.
 */
export const faultListSchema = z
  .array(faultSchema)
  .min(1)
  .max(10)
  .superRefine((faults, context) => {
    const firstOfType = new Map<string, number>();
    faults.forEach((fault, index) => {
      const first = firstOfType.get(fault.type);
      if (first === undefined) {
        firstOfType.set(fault.type, index);
        return;
      }
      context.addIssue({
        code: 'custom',
        path: [index, 'type'],
        message: `'${fault.type}' is already faults[${first}]: a run takes one fault of each type (scope it to several destinations, or use two experiments)`,
      });
    });
  })
  .meta({
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  });

/** Faults applied inside pod network namespaces by the node role of the agent. */
export function isNetworkFault(fault: Fault): fault is NetworkFault {
  return fault.type.startsWith('network-');
}
