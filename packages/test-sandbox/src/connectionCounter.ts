import { KubeConfig } from '@kubernetes/client-node';
import { rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** A TCP relay in front of the sandbox's API server that counts the connections it accepts. */
export interface ConnectionCounter {
  /** Connections accepted so far: each one is a TCP (and TLS) handshake with the API server. */
  readonly connections: number;
  /** A kubeconfig file like the sandbox's, whose server is this relay. */
  readonly kubeconfigPath: string;
  close(): Promise<void>;
}

/**
 * Starts a relay between a client and the real API server of `kubeconfigPath`, on 127.0.0.1.
 * TLS passes through untouched (the server's certificate is for 127.0.0.1, whatever the port), so
 * what the relay counts is what the API server sees: how many connections a client opened.
 */
export async function startConnectionCounter(
  kubeconfigPath: string,
): Promise<ConnectionCounter> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const upstream = new URL(kc.getCurrentCluster()!.server);
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer(client => {
    connections++;
    const api = net.connect(Number(upstream.port), upstream.hostname);
    for (const socket of [client, api]) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        api.destroy();
      });
    }
    client.pipe(api).pipe(client);
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;

  const relayed = new KubeConfig();
  relayed.loadFromFile(kubeconfigPath);
  relayed.clusters = relayed.clusters.map(c =>
    c.name === relayed.getCurrentCluster()!.name
      ? { ...c, server: `https://127.0.0.1:${port}` }
      : c,
  );
  const file = path.join(
    os.tmpdir(),
    `chaoscraft-relay-${process.pid}-${port}.kubeconfig`,
  );
  writeFileSync(file, relayed.exportConfig(), { mode: 0o600 });

  return {
    get connections() {
      return connections;
    },
    kubeconfigPath: file,
    close: async () => {
      sockets.forEach(socket => socket.destroy());
      await new Promise<void>(resolve => server.close(() => resolve()));
      rmSync(file, { force: true });
    },
  };
}
