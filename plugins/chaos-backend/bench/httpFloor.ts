import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChaosRunClient } from '@chaoscraft/backstage-plugin-chaos-node';
import { decodeRunCursor } from '../src/database/runCursor';
import { createChaosRunWith, rawOperations } from './rawSql';

/**
 * The HTTP floor: the raw statements (rawSql.ts) behind a bare `node:http` server on the
 * backend's thread, answering the backend's four requests at the same paths. No framework, no
 * request validation, no Knex, no mapping of rows: what any HTTP service over the same SQL pays
 * on this machine, at the least. Between the raw baseline (no HTTP) and the backend, it says how
 * much of the backend's ratio is HTTP and JSON at all, and how much is the backend's own stack.
 */
export async function startHttpFloor(
  ops: ReturnType<typeof rawOperations>,
  chaosRuns: ChaosRunClient,
): Promise<{ url: string; close(): Promise<void> }> {
  const answer = async (req: http.IncomingMessage): Promise<unknown> => {
    const url = new URL(req.url ?? '/', 'http://floor');
    const parts = url.pathname.split('/').filter(Boolean); // api, chaos, …
    if (req.method === 'GET' && parts.length === 3 && parts[2] === 'runs') {
      const after = url.searchParams.get('after');
      return ops.list(
        url.searchParams.get('entityRef') ?? '',
        after ? decodeRunCursor(after) : undefined,
        Number(url.searchParams.get('limit') ?? 20),
      );
    }
    if (req.method === 'GET' && parts.length === 4 && parts[2] === 'runs')
      return ops.getRun(decodeURIComponent(parts[3]));
    if (
      req.method === 'POST' &&
      parts.length === 5 &&
      parts[2] === 'experiments' &&
      parts[4] === 'runs'
    ) {
      for await (const _ of req); // the body ({ dryRun: false }) is not read further
      return ops.createRun(
        decodeURIComponent(parts[3]),
        'user:default/mock',
        createChaosRunWith(chaosRuns),
      );
    }
    throw new Error(`the floor does not answer ${req.method} ${req.url}`);
  };
  const server = http.createServer((req, res) => {
    answer(req).then(
      body => {
        res.writeHead(req.method === 'POST' ? 201 : 200, {
          'content-type': 'application/json',
        });
        res.end(JSON.stringify(body));
      },
      (error: Error) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(error.message);
      },
    );
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
