import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { labelSelectorQuery, toCandidatePod } from './candidates';
import type { CandidatePod } from './candidates';
import {
  decodePodList,
  PROTOBUF_ACCEPT,
  PROTOBUF_CONTENT_TYPE,
} from './podListProtobuf';

/**
 * Pods per page. A protobuf pod is ~2 KB (most of it managedFields and the spec, which the
 * decoder skips), so a page is ~2 MB of response: memory stays bounded on a namespace of any
 * size. Measured on the sandbox (5,000 pods, loaded 2-core machine): unpaged and pages of 500,
 * 1,000 or 2,000 all took 200-400 ms, within noise of each other, so the bound costs nothing.
 */
const PAGE_SIZE = 1000;

interface RawPodList {
  metadata?: { continue?: string; resourceVersion?: string };
  items: Array<{
    metadata?: {
      name?: string;
      uid?: string;
      labels?: Record<string, string>;
      creationTimestamp?: string;
      deletionTimestamp?: string;
    };
    spec?: { nodeName?: string };
    status?: { phase?: string };
  }>;
}

/** One page of pods, projected to what selection needs. */
export interface PodListPage {
  continueToken?: string;
  resourceVersion?: string;
}

function decodeJsonPodList(body: Buffer, into: CandidatePod[]): PodListPage {
  const page = JSON.parse(body.toString('utf8')) as RawPodList;
  for (const pod of page.items) into.push(toCandidatePod(pod));
  return {
    continueToken: page.metadata?.continue || undefined,
    resourceVersion: page.metadata?.resourceVersion,
  };
}

/** GETs one page and appends its pods to `into`, decoding protobuf, or JSON if the server chose it. */
async function getPodPage(
  kc: KubeConfig,
  url: URL,
  into: CandidatePod[],
): Promise<PodListPage> {
  const options: https.RequestOptions = {
    method: 'GET',
    headers: { Accept: PROTOBUF_ACCEPT },
  };
  await kc.applyToHTTPSOptions(options);
  return new Promise<PodListPage>((resolve, reject) => {
    const request = https.request(url, options, response => {
      const chunks: Buffer[] = [];
      response.on('data', chunk => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const body = Buffer.concat(chunks);
        chunks.length = 0;
        if ((response.statusCode ?? 500) >= 300) {
          // Error Statuses come as JSON whatever was asked for.
          const text = body.toString('utf8');
          reject(
            Object.assign(
              new Error(`HTTP ${response.statusCode}: ${text.slice(0, 512)}`),
              { code: response.statusCode, body: text },
            ),
          );
          return;
        }
        try {
          const protobuf = (response.headers['content-type'] ?? '').startsWith(
            PROTOBUF_CONTENT_TYPE,
          );
          resolve(
            protobuf
              ? decodePodList(body, into)
              : decodeJsonPodList(body, into),
          );
        } catch (error) {
          reject(error);
        }
      });
    });
    request.setTimeout(60_000, () =>
      request.destroy(new Error('pod list timed out')),
    );
    request.on('error', reject);
    request.end();
  });
}

export interface ListPodsResult {
  pods: CandidatePod[];
  /** The list's resourceVersion: where a watch continuing this list starts. */
  resourceVersion?: string;
}

/**
 * Lists a namespace's pods (optionally by label selector), page by page, keeping only what
 * selection needs. No resourceVersion is sent, so the list is consistent (current state); on
 * Kubernetes 1.31+ the API server still serves it from its watch cache (ConsistentListFromCache),
 * which is why `resourceVersion=0` (any-age cache read) measured no faster and is not used: the
 * plan must be made on the current state.
 *
 * Exported for a pod cache's relist as well as for selection.
 */
export async function listPods(
  kc: KubeConfig,
  namespace: string,
  labelSelector?: Record<string, string>,
): Promise<ListPodsResult> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) {
    throw new Error('the kubeconfig has no current cluster');
  }
  const pods: CandidatePod[] = [];
  let continueToken: string | undefined;
  let resourceVersion: string | undefined;
  do {
    const url = new URL(
      `${server.replace(/\/$/, '')}/api/v1/namespaces/${encodeURIComponent(
        namespace,
      )}/pods`,
    );
    if (labelSelector && Object.keys(labelSelector).length) {
      url.searchParams.set('labelSelector', labelSelectorQuery(labelSelector));
    }
    url.searchParams.set('limit', String(PAGE_SIZE));
    if (continueToken) url.searchParams.set('continue', continueToken);
    const page = await getPodPage(kc, url, pods);
    continueToken = page.continueToken;
    resourceVersion = page.resourceVersion;
  } while (continueToken);
  return { pods, resourceVersion };
}

/**
 * Lists the pods matching a selector, fresh from the API server (the plan must be made on the
 * current state), keeping only what selection needs.
 *
 * How, and why (bench-selection, 5,000 pods): client-node's typed list took 6.3 s and 426 MB;
 * JSON with a projection 4.4 s and 397 MB; protobuf with a decoder that skips what selection does
 * not read is what brings the list under a second (docs/agent.md has the figures).
 */
export async function listCandidatePods(
  kc: KubeConfig,
  namespace: string,
  labelSelector: Record<string, string>,
): Promise<CandidatePod[]> {
  return (await listPods(kc, namespace, labelSelector)).pods;
}
