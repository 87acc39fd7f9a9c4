import { randomBytes } from 'node:crypto';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PolicyV1Api,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import { apiErrorCode } from './kube';
import { sandboxKubeconfigPath } from './sandbox';
import { waitFor } from './wait';

/** Label on every namespace this helper creates, to find leftovers: `kubectl delete ns -l ...`. */
export const SANDBOX_NAMESPACE_LABEL = 'chaoscraft.io/test-sandbox';

export interface SandboxNamespaceOptions {
  /** Start of the generated name. Default `test`. */
  prefix?: string;
  /** Extra labels on the namespace, e.g. an opt-in label a controller selects on. */
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Wait in afterAll until the namespace is fully gone. Default false. */
  waitForDeletion?: boolean;
  /** Timeout of the beforeAll and afterAll hooks. Default 120 s. */
  hookTimeoutMs?: number;
}

/** What a test file gets from useSandboxNamespace(); readable from beforeAll on. */
export interface SandboxNamespace {
  /** Admin kubeconfig of the sandbox. */
  readonly kc: KubeConfig;
  /** The fresh namespace's name. */
  readonly namespace: string;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly policy: PolicyV1Api;
  readonly rbac: RbacAuthorizationV1Api;
  readonly authorization: AuthorizationV1Api;
  readonly apiextensions: ApiextensionsV1Api;
  readonly customObjects: CustomObjectsApi;
  /** Generic client for any object (apply-style create/patch/delete). */
  readonly objects: KubernetesObjectApi;
}

/** The sandbox's admin KubeConfig (see sandboxKubeconfigPath for where it comes from). */
export async function sandboxKubeConfig(): Promise<KubeConfig> {
  const kc = new KubeConfig();
  kc.loadFromFile(await sandboxKubeconfigPath());
  return kc;
}

/** A DNS-1123 label: prefix, then a random suffix so parallel runs and files never collide. */
function uniqueNamespaceName(prefix: string): string {
  const clean =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'test';
  return `${clean}-${randomBytes(4).toString('hex')}`;
}

function makeClients(kc: KubeConfig, namespace: string): SandboxNamespace {
  return {
    kc,
    namespace,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    policy: kc.makeApiClient(PolicyV1Api),
    rbac: kc.makeApiClient(RbacAuthorizationV1Api),
    authorization: kc.makeApiClient(AuthorizationV1Api),
    apiextensions: kc.makeApiClient(ApiextensionsV1Api),
    customObjects: kc.makeApiClient(CustomObjectsApi),
    objects: KubernetesObjectApi.makeApiClient(kc),
  };
}

/**
 * Registers beforeAll/afterAll hooks in the calling test file (or describe block): beforeAll
 * creates a fresh, uniquely named namespace in the sandbox; afterAll deletes it, whether the
 * tests passed or not. Call it once per namespace a file needs.
 *
 * The returned object's properties throw until beforeAll has run.
 */
export function useSandboxNamespace(
  options: SandboxNamespaceOptions = {},
): SandboxNamespace {
  const hookTimeout = options.hookTimeoutMs ?? 120_000;
  let current: SandboxNamespace | undefined;

  beforeAll(async () => {
    const kc = await sandboxKubeConfig();
    const name = uniqueNamespaceName(options.prefix ?? 'test');
    const clients = makeClients(kc, name);
    await clients.core.createNamespace({
      body: {
        metadata: {
          name,
          labels: { ...options.labels, [SANDBOX_NAMESPACE_LABEL]: 'true' },
          annotations: options.annotations,
        },
      },
    });
    current = clients;
  }, hookTimeout);

  afterAll(async () => {
    if (!current) {
      return;
    }
    const { core, namespace } = current;
    current = undefined;
    try {
      await core.deleteNamespace({ name: namespace });
    } catch (error) {
      if (apiErrorCode(error) !== 404) {
        throw error;
      }
    }
    if (options.waitForDeletion) {
      await waitFor(
        async () => {
          try {
            await core.readNamespace({ name: namespace });
            return false;
          } catch (error) {
            return apiErrorCode(error) === 404;
          }
        },
        {
          timeoutMs: hookTimeout - 5_000,
          description: `namespace ${namespace} to be deleted`,
        },
      );
    }
  }, hookTimeout);

  const get = <K extends keyof SandboxNamespace>(
    key: K,
  ): SandboxNamespace[K] => {
    if (!current) {
      throw new Error(
        'useSandboxNamespace(): values are available inside tests and hooks, after beforeAll',
      );
    }
    return current[key];
  };
  return {
    get kc() {
      return get('kc');
    },
    get namespace() {
      return get('namespace');
    },
    get core() {
      return get('core');
    },
    get apps() {
      return get('apps');
    },
    get policy() {
      return get('policy');
    },
    get rbac() {
      return get('rbac');
    },
    get authorization() {
      return get('authorization');
    },
    get apiextensions() {
      return get('apiextensions');
    },
    get customObjects() {
      return get('customObjects');
    },
    get objects() {
      return get('objects');
    },
  };
}
