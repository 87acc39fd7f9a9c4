import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  AdmissionregistrationV1Api,
  CustomObjectsApi,
  KubeConfig,
} from '@kubernetes/client-node';
import {
  ADMISSION_PLAN_ANNOTATION,
  CHAOS_GROUP,
  CHAOS_RUN,
  CHAOS_VERSION,
} from '@chaoscraft/backstage-plugin-chaos-common';
// Test support only (acceptance suites and benchmarks), hence a devDependency.
// eslint-disable-next-line @backstage/no-undeclared-imports
import { waitFor } from '@chaoscraft/test-sandbox';
import { MUTATE_CHAOSRUN_PATH } from '@chaoscraft/agent';
import { CHAOS_RUN_COORDINATES } from '@chaoscraft/backstage-plugin-chaos-node';

/**
 * A serving certificate for a webhook on 127.0.0.1, made with openssl (self-signed, so it is its
 * own CA bundle). In a cluster the chart makes one for the Service name instead.
 */
export function makeWebhookCert(): {
  certDir: string;
  caBundle: string;
  remove(): void;
} {
  const certDir = mkdtempSync(path.join(os.tmpdir(), 'chaoscraft-webhook-'));
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      path.join(certDir, 'tls.key'),
      '-out',
      path.join(certDir, 'tls.crt'),
    ],
    { encoding: 'utf8' },
  );
  if (made.status !== 0)
    throw new Error(
      `openssl could not make the webhook certificate: ${made.stderr}`,
    );
  return {
    certDir,
    caBundle: readFileSync(path.join(certDir, 'tls.crt')).toString('base64'),
    remove: () => rmSync(certDir, { recursive: true, force: true }),
  };
}

/** A free TCP port on 127.0.0.1 (for an agent started as a separate process). */
/**
 * Points the API server at a ChaosRun webhook on 127.0.0.1:port for the given namespaces
 * (failurePolicy Ignore, as the chart has it), and waits until a dry-run create comes back
 * planned. Returns the remover.
 */
export async function registerAdmissionWebhook(
  kc: KubeConfig,
  options: {
    name: string;
    port: number;
    caBundle: string;
    namespaces: string[];
    probeNamespace: string;
    probeSpec: object;
  },
): Promise<() => Promise<void>> {
  const api = kc.makeApiClient(AdmissionregistrationV1Api);
  await api.createMutatingWebhookConfiguration({
    body: {
      metadata: { name: options.name },
      webhooks: [
        {
          name: 'plan.chaosruns.chaoscraft.io',
          admissionReviewVersions: ['v1'],
          sideEffects: 'None',
          failurePolicy: 'Ignore',
          timeoutSeconds: 5,
          clientConfig: {
            url: `https://127.0.0.1:${options.port}${MUTATE_CHAOSRUN_PATH}`,
            caBundle: options.caBundle,
          },
          namespaceSelector: {
            matchExpressions: [
              {
                key: 'kubernetes.io/metadata.name',
                operator: 'In',
                values: options.namespaces,
              },
            ],
          },
          rules: [
            {
              apiGroups: [CHAOS_GROUP],
              apiVersions: [CHAOS_VERSION],
              operations: ['CREATE'],
              resources: [CHAOS_RUN.plural],
            },
          ],
        },
      ],
    },
  });
  // The API server picks the configuration up from its own watch: wait until it is in effect.
  const objects = kc.makeApiClient(CustomObjectsApi);
  await waitFor(
    async () => {
      const created = (await objects.createNamespacedCustomObject({
        ...CHAOS_RUN_COORDINATES,
        namespace: options.probeNamespace,
        dryRun: 'All',
        body: {
          apiVersion: `${CHAOS_GROUP}/${CHAOS_VERSION}`,
          kind: CHAOS_RUN.kind,
          metadata: { generateName: 'webhook-probe-' },
          spec: options.probeSpec,
        },
      })) as { metadata?: { annotations?: Record<string, string> } };
      return Boolean(
        created.metadata?.annotations?.[ADMISSION_PLAN_ANNOTATION],
      );
    },
    {
      timeoutMs: 30_000,
      intervalMs: 250,
      description: 'the admission webhook to plan a dry-run create',
    },
  );
  return async () => {
    await api
      .deleteMutatingWebhookConfiguration({ name: options.name })
      .catch(() => undefined);
  };
}
