/**
 * Helpers for Jest suites that run against a real local Kubernetes control plane: the sandbox
 * of infra/sandbox (etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok fake
 * nodes). See docs/sandbox.md.
 *
 * @packageDocumentation
 */

export {
  SANDBOX_KUBECONFIG_ENV,
  sandboxKubeconfigPath,
  sandboxScriptPath,
  startSandbox,
  stopSandbox,
  stopSandboxSync,
} from './sandbox';
export type { StartedSandbox, StartSandboxOptions } from './sandbox';
export {
  SANDBOX_NAMESPACE_LABEL,
  sandboxKubeConfig,
  useSandboxNamespace,
} from './namespace';
export type { SandboxNamespace, SandboxNamespaceOptions } from './namespace';
export { delay, WaitAbortedError, waitFor } from './wait';
export type { WaitForOptions } from './wait';
export {
  apiErrorCode,
  apiErrorStatus,
  expectApiError,
  isPodReady,
  kubeConfigWithToken,
  recordWatch,
  waitForReadyPods,
} from './kube';
export type { WatchEvent, WatchRecorder } from './kube';
export { startConnectionCounter } from './connectionCounter';
export type { ConnectionCounter } from './connectionCounter';
