/**
 * Acceptance tests of the sandbox: each one asserts behaviour that only a real control plane
 * (apiserver admission and RBAC, controller-manager, scheduler, kwok nodes) produces.
 */
import { randomBytes } from 'node:crypto';
import {
  AuthenticationV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  KubernetesObject,
  V1CustomResourceDefinition,
  V1Deployment,
  V1PodDisruptionBudget,
} from '@kubernetes/client-node';
import {
  apiErrorCode,
  expectApiError,
  isPodReady,
  kubeConfigWithToken,
  recordWatch,
  useSandboxNamespace,
  waitFor,
  waitForReadyPods,
} from '.';

// Generous but bounded: a cold controller on a loaded 2-core machine takes seconds, not minutes.
const TEST_TIMEOUT_MS = 120_000;
const WAIT = { timeoutMs: 90_000 };

const sandbox = useSandboxNamespace({ prefix: 'sandbox-test' });
const other = useSandboxNamespace({ prefix: 'sandbox-test-other' });

function deployment(name: string, replicas: number): V1Deployment {
  return {
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          // kwok fakes containers; the image is never pulled.
          containers: [{ name: 'app', image: 'fake-image:1' }],
          nodeSelector: { type: 'kwok' },
          terminationGracePeriodSeconds: 1,
        },
      },
    },
  };
}

async function deletePod(
  core: CoreV1Api,
  namespace: string,
  name: string,
): Promise<void> {
  await core.deleteNamespacedPod({ name, namespace });
}

/** Resolves when the pod no longer exists at all (not just terminating). */
async function waitForPodGone(
  core: CoreV1Api,
  namespace: string,
  name: string,
): Promise<void> {
  await waitFor(
    async () => {
      try {
        await core.readNamespacedPod({ name, namespace });
        return false;
      } catch (error) {
        if (apiErrorCode(error) === 404) {
          return true;
        }
        throw error;
      }
    },
    { ...WAIT, description: `pod ${namespace}/${name} to be gone` },
  );
}

describe('Deployments on kwok nodes', () => {
  it(
    'runs 10 ready replicas and replaces deleted pods',
    async () => {
      const { apps, core, namespace } = sandbox;
      await apps.createNamespacedDeployment({
        namespace,
        body: deployment('web', 10),
      });

      const pods = await waitForReadyPods(core, namespace, 'app=web', 10, WAIT);
      for (const pod of pods) {
        expect(pod.spec?.nodeName).toMatch(/^kwok-node-\d+$/);
      }

      const deleted = pods.slice(0, 3).map(p => p.metadata!.name!);
      await Promise.all(deleted.map(name => deletePod(core, namespace, name)));

      const replaced = await waitFor(
        async () => {
          const list = await core.listNamespacedPod({
            namespace,
            labelSelector: 'app=web',
          });
          const names = list.items.map(p => p.metadata!.name!);
          const ready = list.items.filter(isPodReady);
          return ready.length === 10 &&
            list.items.length === 10 &&
            !names.some(n => deleted.includes(n))
            ? ready
            : undefined;
        },
        { ...WAIT, description: 'the ReplicaSet to replace 3 deleted pods' },
      );
      expect(replaced.map(p => p.metadata!.name)).toEqual(
        expect.not.arrayContaining(deleted),
      );
      const rs = await apps.listNamespacedReplicaSet({
        namespace,
        labelSelector: 'app=web',
      });
      expect(rs.items).toHaveLength(1);
      await waitFor(
        async () => {
          const d = await apps.readNamespacedDeployment({
            name: 'web',
            namespace,
          });
          return (
            d.status?.readyReplicas === 10 && d.status.availableReplicas === 10
          );
        },
        { ...WAIT, description: 'deployment web status to report 10 ready' },
      );
    },
    TEST_TIMEOUT_MS,
  );
});

describe('PodDisruptionBudget and the Eviction API', () => {
  /** Waits until the disruption controller has processed the current spec of the PDB. */
  async function waitForPdbObserved(
    name: string,
    expected: { currentHealthy: number; disruptionsAllowed: number },
  ): Promise<V1PodDisruptionBudget> {
    const { policy, namespace } = sandbox;
    return waitFor(
      async () => {
        const pdb = await policy.readNamespacedPodDisruptionBudget({
          name,
          namespace,
        });
        const s = pdb.status;
        return s?.observedGeneration === pdb.metadata?.generation &&
          s?.currentHealthy === expected.currentHealthy &&
          s?.disruptionsAllowed === expected.disruptionsAllowed
          ? pdb
          : undefined;
      },
      {
        ...WAIT,
        description: `PDB ${name} observed with ${JSON.stringify(expected)}`,
      },
    );
  }

  function evict(name: string): Promise<unknown> {
    const { core, namespace } = sandbox;
    return core.createNamespacedPodEviction({
      name,
      namespace,
      body: {
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name, namespace },
      },
    });
  }

  it(
    'blocks evictions that would break minAvailable, but not plain deletes',
    async () => {
      const { apps, core, policy, namespace } = sandbox;
      await apps.createNamespacedDeployment({
        namespace,
        body: deployment('guarded', 10),
      });
      const pods = await waitForReadyPods(
        core,
        namespace,
        'app=guarded',
        10,
        WAIT,
      );
      await policy.createNamespacedPodDisruptionBudget({
        namespace,
        body: {
          metadata: { name: 'guarded' },
          spec: {
            minAvailable: 10,
            selector: { matchLabels: { app: 'guarded' } },
          },
        },
      });
      await waitForPdbObserved('guarded', {
        currentHealthy: 10,
        disruptionsAllowed: 0,
      });

      // Eviction honours the budget: 429 with a DisruptionBudget cause, and the pod stays.
      const victim = pods[0].metadata!.name!;
      const status = await expectApiError(evict(victim), 429);
      expect(status.details?.causes).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            reason: 'DisruptionBudget',
            message: expect.stringMatching(/needs 10 healthy pods/),
          }),
        ]),
      );
      const stillThere = await core.readNamespacedPod({
        name: victim,
        namespace,
      });
      expect(stillThere.metadata?.deletionTimestamp).toBeUndefined();

      // A plain delete is not an eviction: the budget does not apply.
      const deleted = pods[1].metadata!.name!;
      await deletePod(core, namespace, deleted);
      await waitForPodGone(core, namespace, deleted);
      await waitForReadyPods(core, namespace, 'app=guarded', 10, WAIT);

      // With minAvailable 9 and 10 healthy pods, exactly one disruption is allowed.
      const pdb = await policy.readNamespacedPodDisruptionBudget({
        name: 'guarded',
        namespace,
      });
      pdb.spec!.minAvailable = 9;
      await policy.replaceNamespacedPodDisruptionBudget({
        name: 'guarded',
        namespace,
        body: pdb,
      });
      await waitForPdbObserved('guarded', {
        currentHealthy: 10,
        disruptionsAllowed: 1,
      });

      await evict(victim);
      await waitForPodGone(core, namespace, victim);
    },
    TEST_TIMEOUT_MS,
  );
});

describe('RBAC with a service account token from the TokenRequest API', () => {
  it(
    'allows deleting pods only in the granted namespace and denies reading secrets',
    async () => {
      const a = sandbox.namespace;
      const b = other.namespace;
      const { core, rbac, kc } = sandbox;
      const sa = 'pod-deleter';

      await core.createNamespacedServiceAccount({
        namespace: a,
        body: { metadata: { name: sa } },
      });
      await rbac.createNamespacedRole({
        namespace: a,
        body: {
          metadata: { name: sa },
          rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['delete'] }],
        },
      });
      await rbac.createNamespacedRoleBinding({
        namespace: a,
        body: {
          metadata: { name: sa },
          roleRef: {
            apiGroup: 'rbac.authorization.k8s.io',
            kind: 'Role',
            name: sa,
          },
          subjects: [{ kind: 'ServiceAccount', name: sa, namespace: a }],
        },
      });
      const pod = (name: string) => ({
        metadata: { name },
        spec: { containers: [{ name: 'app', image: 'fake-image:1' }] },
      });
      await core.createNamespacedPod({ namespace: a, body: pod('target') });
      await core.createNamespacedPod({ namespace: b, body: pod('target') });
      await core.createNamespacedSecret({
        namespace: a,
        body: {
          metadata: { name: 'secret' },
          stringData: { password: 'hunter2' },
        },
      });

      const tokenRequest = await core.createNamespacedServiceAccountToken({
        name: sa,
        namespace: a,
        body: { spec: { audiences: [], expirationSeconds: 600 } },
      });
      const token = tokenRequest.status?.token;
      if (!token) {
        throw new Error('the TokenRequest API returned no token');
      }
      const saKc = kubeConfigWithToken(
        kc,
        token,
        `system:serviceaccount:${a}:${sa}`,
      );
      const saCore = saKc.makeApiClient(CoreV1Api);

      // The token authenticates as the service account itself.
      const review = await saKc
        .makeApiClient(AuthenticationV1Api)
        .createSelfSubjectReview({ body: {} });
      expect(review.status?.userInfo?.username).toBe(
        `system:serviceaccount:${a}:${sa}`,
      );

      // RBAC sees new bindings through an informer: wait until the grant is in effect rather
      // than racing it.
      const saAuthz = saKc.makeApiClient(AuthorizationV1Api);
      await waitFor(
        async () => {
          const access = await saAuthz.createSelfSubjectAccessReview({
            body: {
              spec: {
                resourceAttributes: {
                  namespace: a,
                  verb: 'delete',
                  resource: 'pods',
                },
              },
            },
          });
          return access.status?.allowed === true;
        },
        { ...WAIT, description: 'the RoleBinding to take effect' },
      );

      await saCore.deleteNamespacedPod({ name: 'target', namespace: a });
      await expectApiError(
        saCore.deleteNamespacedPod({ name: 'target', namespace: b }),
        403,
      );
      await expectApiError(saCore.listNamespacedSecret({ namespace: a }), 403);
      await expectApiError(
        saCore.readNamespacedSecret({ name: 'secret', namespace: a }),
        403,
      );

      // The denied delete left the pod in namespace B alone.
      const survivor = await core.readNamespacedPod({
        name: 'target',
        namespace: b,
      });
      expect(survivor.metadata?.deletionTimestamp).toBeUndefined();
    },
    TEST_TIMEOUT_MS,
  );
});

describe('CustomResourceDefinitions', () => {
  // CRDs are cluster-scoped: a random group keeps concurrent runs on one sandbox apart.
  const group = `t${randomBytes(3).toString('hex')}.sandbox-test.chaoscraft.io`;
  const plural = 'widgets';
  const version = 'v1alpha1';
  const crdName = `${plural}.${group}`;

  afterAll(async () => {
    try {
      await sandbox.apiextensions.deleteCustomResourceDefinition({
        name: crdName,
      });
    } catch (error) {
      if (apiErrorCode(error) !== 404) {
        throw error;
      }
    }
  });

  it(
    'serves a new kind with watch and a status subresource',
    async () => {
      const { apiextensions, customObjects, kc, namespace } = sandbox;
      const crd: V1CustomResourceDefinition = {
        metadata: { name: crdName },
        spec: {
          group,
          scope: 'Namespaced',
          names: {
            plural,
            singular: 'widget',
            kind: 'Widget',
            listKind: 'WidgetList',
          },
          versions: [
            {
              name: version,
              served: true,
              storage: true,
              subresources: { status: {} },
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    spec: {
                      type: 'object',
                      properties: { size: { type: 'integer' } },
                    },
                    status: {
                      type: 'object',
                      properties: { phase: { type: 'string' } },
                    },
                  },
                },
              },
            },
          ],
        },
      };
      await apiextensions.createCustomResourceDefinition({ body: crd });
      await waitFor(
        async () => {
          const current = await apiextensions.readCustomResourceDefinition({
            name: crdName,
          });
          return current.status?.conditions?.some(
            c => c.type === 'Established' && c.status === 'True',
          );
        },
        { ...WAIT, description: `CRD ${crdName} to be established` },
      );

      type Widget = KubernetesObject & {
        spec?: { size?: number };
        status?: { phase?: string };
      };
      const watch = await recordWatch<Widget>(
        kc,
        `/apis/${group}/${version}/namespaces/${namespace}/${plural}`,
        {},
        WAIT,
      );
      try {
        const ref = { group, version, namespace, plural };
        await customObjects.createNamespacedCustomObject({
          ...ref,
          body: {
            apiVersion: `${group}/${version}`,
            kind: 'Widget',
            metadata: { name: 'w1' },
            spec: { size: 1 },
          },
        });
        await watch.waitForEvent(
          e => e.type === 'ADDED' && e.object.metadata?.name === 'w1',
          {
            ...WAIT,
            description: 'an ADDED watch event',
          },
        );

        // Through the main resource, status is ignored and spec changes apply...
        const w1 = (await customObjects.getNamespacedCustomObject({
          ...ref,
          name: 'w1',
        })) as Widget;
        const updated = (await customObjects.replaceNamespacedCustomObject({
          ...ref,
          name: 'w1',
          body: { ...w1, spec: { size: 2 }, status: { phase: 'Ignored' } },
        })) as Widget;
        expect(updated.spec?.size).toBe(2);
        expect(updated.status).toBeUndefined();

        // ...and through the status subresource, only status changes.
        const withStatus =
          (await customObjects.replaceNamespacedCustomObjectStatus({
            ...ref,
            name: 'w1',
            body: {
              ...updated,
              spec: { size: 99 },
              status: { phase: 'Ready' },
            },
          })) as Widget;
        expect(withStatus.status?.phase).toBe('Ready');
        expect(withStatus.spec?.size).toBe(2);

        const modified = await watch.waitForEvent(
          e => e.type === 'MODIFIED' && e.object.status?.phase === 'Ready',
          {
            ...WAIT,
            description: 'a MODIFIED watch event carrying the new status',
          },
        );
        expect(modified.object.spec?.size).toBe(2);
        // The spec change came through the watch as well, before the status change.
        expect(
          watch.events.some(
            e =>
              e.type === 'MODIFIED' &&
              e.object.spec?.size === 2 &&
              !e.object.status,
          ),
        ).toBe(true);
      } finally {
        watch.stop();
      }
    },
    TEST_TIMEOUT_MS,
  );
});
