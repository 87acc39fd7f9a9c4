/**
 * The agent's test kit, for suites and benchmarks that run it against real components. It uses
 * only the agent's public exports.
 *
 * - harness: CRDs, the controller and a node daemon in-process, runs and pods on the sandbox
 * - netns: a lab of network namespaces joined by veth pairs, with traffic probes
 * - testbed: a private Prometheus, a demo HTTP service in its own namespace, a load generator
 *
 * @packageDocumentation
 */
export * from './harness/harness';
export * from './harness/admissionWebhook';
export * from './netns/faults';
export * from './netns/netem';
export * from './netns/netnsLab';
export * from './testbed/netns';
export * from './testbed/networkFaults';
export * from './testbed/processes';
export * from './testbed/prometheus';
export * from './testbed/testbed';
