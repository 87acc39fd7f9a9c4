/**
 * Figures measured in the sandbox's real pods from the host they run on, while a fault holds:
 * throughput out of a pod, the share of TCP handshakes a pod fails to answer, and the CPU and
 * memory its container's cgroup uses. Pod IPs on the real node's bridge are routable from the
 * host (Prometheus scrapes them the same way), and the node's cgroups are the host's.
 */
import { promises as fs } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** The demo app's port (infra/demo-app/main.ts, DEMO_PORT). */
export const DEMO_PORT = 8080;

/**
 * Fetches `bytes` from the pod's /bytes endpoint and returns the throughput in kbit/s, from the
 * request to the last byte.
 */
export async function downloadKbit(
  podIP: string,
  bytes: number,
  timeoutMs = 60_000,
): Promise<number> {
  const started = performance.now();
  const response = await fetch(
    `http://${podIP}:${DEMO_PORT}/bytes?n=${bytes}`,
    {
      signal: AbortSignal.timeout(timeoutMs),
    },
  );
  if (!response.ok)
    throw new Error(
      `GET /bytes from ${podIP}: ${response.status} ${await response.text()}`,
    );
  const received = (await response.arrayBuffer()).byteLength;
  const seconds = (performance.now() - started) / 1000;
  if (received !== bytes)
    throw new Error(`GET /bytes from ${podIP}: ${received} of ${bytes} bytes`);
  return (received * 8) / 1000 / seconds;
}

/**
 * Opens `tries` TCP connections to the pod, `batch` at a time, and returns the share that did not
 * complete their handshake within `windowMs`. A connection fails when the pod's SYN-ACK is lost:
 * with egress loss P each try fails with probability P, as long as the window stays under the
 * kernel's first SYN-ACK retransmission (1 s). The window is one timer per batch, and the count
 * is taken in the event loop's check phase after it, so connections whose handshake completed
 * before the timer fired are counted as made even when the loop was late (a loaded machine).
 */
export async function connectFailures(
  podIP: string,
  { tries = 200, batch = 50, windowMs = 800 } = {},
): Promise<number> {
  let failed = 0;
  for (let done = 0; done < tries; done += batch) {
    const sockets = Array.from({ length: Math.min(batch, tries - done) }, () =>
      net.connect({ host: podIP, port: DEMO_PORT }).on('error', () => {}),
    );
    const connected = () =>
      sockets.filter(socket => !socket.connecting && !socket.destroyed).length;
    await new Promise<void>(resolve => {
      const timer = setTimeout(() => setImmediate(resolve), windowMs);
      // A batch that has connected in full needs no more waiting.
      for (const socket of sockets) {
        socket.once('connect', () => {
          if (connected() === sockets.length) {
            clearTimeout(timer);
            resolve();
          }
        });
      }
    });
    failed += sockets.length - connected();
    for (const socket of sockets) socket.destroy();
  }
  return failed / tries;
}

/**
 * The directory of a container's cgroup in one v1 hierarchy (`cpuacct`, `memory`): the kubelet's
 * cgroupfs driver names a pod `pod<UID>` (`pod<UID_with_underscores>` under systemd) and its
 * container by its ID, under a root of its own (`/chaoscraft-node-N/kubepods/<qos>`), so it is
 * looked for a few levels down.
 */
export async function containerCgroup(
  hierarchy: string,
  podUid: string,
  containerId: string,
): Promise<string> {
  const podNames = new Set([`pod${podUid}`, `pod${podUid.replace(/-/g, '_')}`]);
  const id = containerId.replace(/^[a-z]+:\/\//, '');
  const root = path.join('/sys/fs/cgroup', hierarchy);
  let level = [root];
  for (let depth = 0; depth < 6 && level.length > 0; depth++) {
    const next: string[] = [];
    for (const dir of level) {
      const entries = await fs
        .readdir(dir, { withFileTypes: true })
        .catch(() => []);
      for (const entry of entries) {
        if (!entry.isDirectory()) continue;
        const child = path.join(dir, entry.name);
        if (podNames.has(entry.name)) {
          const container = (await fs.readdir(child)).find(name =>
            name.includes(id),
          );
          if (container) return path.join(child, container);
        }
        next.push(child);
      }
    }
    level = next;
  }
  throw new Error(
    `no cgroup for container ${id} of pod ${podUid} under ${root}`,
  );
}

async function readNumber(file: string): Promise<number> {
  return Number((await fs.readFile(file, 'utf8')).trim());
}

/** CPU cores a cgroup used over `ms`, from its cpuacct.usage (nanoseconds). */
export async function cpuCores(cpuacctDir: string, ms = 3000): Promise<number> {
  const file = path.join(cpuacctDir, 'cpuacct.usage');
  const startNs = await readNumber(file);
  const started = performance.now();
  await new Promise(resolve => setTimeout(resolve, ms));
  const usedNs = (await readNumber(file)) - startNs;
  return usedNs / 1e6 / (performance.now() - started);
}

/** A cgroup's memory use in MiB (memory.usage_in_bytes). */
export async function memoryMiB(memoryDir: string): Promise<number> {
  return (
    (await readNumber(path.join(memoryDir, 'memory.usage_in_bytes'))) / 2 ** 20
  );
}
