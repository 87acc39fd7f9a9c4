import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  ADMISSION_PLAN_ANNOTATION,
  CHAOS_GROUP,
  CHAOS_RUN,
  chaosRunSpecSchema,
  type AdmissionPlan,
  type ChaosRunSpec,
} from '@chaoscraft/backstage-plugin-chaos-common';
import { CHAOS_FINALIZER } from '@chaoscraft/backstage-plugin-chaos-node';
import type { Logger } from '../log';

/** The path the MutatingWebhookConfiguration points at. */
export const MUTATE_CHAOSRUN_PATH = '/mutate-chaosrun';

/** Larger admission requests are answered "allowed, unchanged" without being read further. */
const MAX_BODY_BYTES = 3 * 1024 * 1024;

/**
 * How long a connection from the API server may stay idle. Its webhook client keeps an idle
 * connection 90 s (Go's default transport, which client-go's defaults inherit); with Node's
 * default of 5 s, a run created more than 5 s after the last one paid for a new TCP and TLS
 * connection in its create: ~2 ms (bench-injection, 10 trials: the create took 13.0 ms when every
 * answer closed its connection, 10.9 ms kept alive). Longer than the client's, so that it is the
 * client that closes an idle connection, never this side while a request is on its way.
 */
export const WEBHOOK_IDLE_CONNECTION_MS = 120_000;

export interface AdmissionWebhookOptions {
  host: string;
  /** 0 = any free port (tests). */
  port: number;
  /** Directory holding tls.crt and tls.key (a Kubernetes TLS Secret mounted as files). */
  certDir: string;
  /** Plans a run being created; undefined leaves it to the controller's preflight. */
  plan(
    spec: ChaosRunSpec,
    namespace: string,
  ): Promise<AdmissionPlan | undefined>;
  /** Past this, the run is admitted unplanned rather than slowing the create down. */
  planTimeoutMs: number;
  log: Logger;
}

export interface AdmissionWebhook {
  port: number;
  close(): Promise<void>;
}

interface AdmissionRequest {
  uid: string;
  kind?: { group?: string; kind?: string };
  operation?: string;
  namespace?: string;
  object?: {
    metadata?: {
      namespace?: string;
      annotations?: Record<string, string>;
      finalizers?: string[];
    };
    spec?: unknown;
  };
}

/** RFC 6901: a map key as one JSON-pointer segment. */
const pointerSegment = (key: string): string =>
  key.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * The JSON patch that puts the plan and the controller's finalizer into the object being
 * created, so both are persisted by the create itself.
 */
export function admissionPatch(
  object: NonNullable<AdmissionRequest['object']>,
  plan: AdmissionPlan,
): object[] {
  const value = JSON.stringify(plan);
  const metadata = object.metadata ?? {};
  const ops: object[] = [];
  if (metadata.annotations) {
    ops.push({
      op: 'add',
      path: `/metadata/annotations/${pointerSegment(
        ADMISSION_PLAN_ANNOTATION,
      )}`,
      value,
    });
  } else {
    ops.push({
      op: 'add',
      path: '/metadata/annotations',
      value: { [ADMISSION_PLAN_ANNOTATION]: value },
    });
  }
  if (!metadata.finalizers) {
    ops.push({
      op: 'add',
      path: '/metadata/finalizers',
      value: [CHAOS_FINALIZER],
    });
  } else if (!metadata.finalizers.includes(CHAOS_FINALIZER)) {
    ops.push({
      op: 'add',
      path: '/metadata/finalizers/-',
      value: CHAOS_FINALIZER,
    });
  }
  return ops;
}

const withoutSuppliedPlan = {
  op: 'remove',
  path: `/metadata/annotations/${pointerSegment(ADMISSION_PLAN_ANNOTATION)}`,
};
const encodePatch = (ops: object[]): string =>
  Buffer.from(JSON.stringify(ops)).toString('base64');

/**
 * The answer to one AdmissionReview. It always admits: validating a ChaosRun is the CRD schema's
 * job, refusing one is preflight's (with the reason in status). It only adds a plan when one can
 * be made in time.
 */
export async function review(
  request: AdmissionRequest,
  options: Pick<AdmissionWebhookOptions, 'plan' | 'planTimeoutMs' | 'log'>,
): Promise<Record<string, unknown>> {
  const allowed = { uid: request.uid, allowed: true };
  const object = request.object;
  if (
    request.operation !== 'CREATE' ||
    request.kind?.group !== CHAOS_GROUP ||
    request.kind?.kind !== CHAOS_RUN.kind ||
    !object
  ) {
    return allowed;
  }
  const spec = chaosRunSpecSchema.safeParse(object.spec);
  const namespace = request.namespace ?? object.metadata?.namespace;
  if (!spec.success || !namespace) return allowed;
  let timer: NodeJS.Timeout | undefined;
  try {
    const plan = await Promise.race([
      options.plan(spec.data, namespace),
      new Promise<undefined>(resolve => {
        timer = setTimeout(() => resolve(undefined), options.planTimeoutMs);
      }),
    ]);
    const supplied =
      object.metadata?.annotations?.[ADMISSION_PLAN_ANNOTATION] !== undefined;
    if (!plan) {
      // A plan only this webhook may write: one the creator supplied is taken out.
      return supplied
        ? {
            ...allowed,
            patchType: 'JSONPatch',
            patch: encodePatch([withoutSuppliedPlan]),
          }
        : allowed;
    }
    const patch = encodePatch(admissionPatch(object, plan));
    return { ...allowed, patchType: 'JSONPatch', patch };
  } catch (error) {
    options.log.warn(
      { err: error instanceof Error ? error.message : String(error) },
      'planning at admission failed; the controller will plan',
    );
    return allowed;
  } finally {
    clearTimeout(timer);
  }
}

/** Serves the ChaosRun mutating webhook over HTTPS (the API server only calls webhooks over TLS). */
export async function startAdmissionWebhook(
  options: AdmissionWebhookOptions,
): Promise<AdmissionWebhook> {
  const server: Server = createServer(
    {
      cert: readFileSync(path.join(options.certDir, 'tls.crt')),
      key: readFileSync(path.join(options.certDir, 'tls.key')),
    },
    (req, res) => {
      const reply = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (
        req.method !== 'POST' ||
        req.url?.split('?')[0] !== MUTATE_CHAOSRUN_PATH
      ) {
        reply(404, { error: `only POST ${MUTATE_CHAOSRUN_PATH}` });
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      });
      req.on('end', () => {
        let body: { apiVersion?: string; request?: AdmissionRequest };
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          reply(400, { error: 'the body is not an AdmissionReview' });
          return;
        }
        const request = body.request;
        if (!request?.uid) {
          reply(400, { error: 'AdmissionReview.request.uid is required' });
          return;
        }
        const answer =
          size > MAX_BODY_BYTES
            ? Promise.resolve({ uid: request.uid, allowed: true })
            : review(request, options);
        void answer.then(response =>
          reply(200, {
            apiVersion: body.apiVersion ?? 'admission.k8s.io/v1',
            kind: 'AdmissionReview',
            response,
          }),
        );
      });
    },
  );
  server.keepAliveTimeout = WEBHOOK_IDLE_CONNECTION_MS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  options.log.info(
    { port, path: MUTATE_CHAOSRUN_PATH },
    'admission webhook listening',
  );
  return {
    port,
    close: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
