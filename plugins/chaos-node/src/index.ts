/**
 * The node-side kit that every process talking to a cluster shares: the agent's controller and
 * node daemon, and the backend's cluster access.
 *
 * @packageDocumentation
 */
export { KeepAliveKubeConfig, loadKubeConfig } from './kube/kubeConfig';
