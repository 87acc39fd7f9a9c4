/**
 * Small traffic tool for the network tests, run inside a test network namespace with
 * `nsenter --net=PATH node --require @backstage/cli/config/nodeTransform.cjs traffic.ts MODE ...`.
 * Every mode is bounded in bytes and time and prints one JSON line with its result.
 *
 *   serve  --tcp PORT --udp PORT                 accept-and-discard TCP, echo UDP; runs until killed
 *   recv   --port P --warmup-ms W --window-ms D  one TCP connection, throughput over [W, W+D]
 *   send   --host H --port P --max-bytes N --timeout-ms T
 *   probe  --host H --port P --count N --interval-ms I --timeout-ms T   UDP echo: loss and RTT
 *   connect --host H --port P --timeout-ms T     one TCP connect
 */
import dgram from 'node:dgram';
import net from 'node:net';

const [mode, ...rest] = process.argv.slice(2);
const args = new Map<string, string>();
for (let i = 0; i < rest.length; i += 2) {
  args.set(rest[i].replace(/^--/, ''), rest[i + 1]);
}
const num = (name: string, fallback?: number): number => {
  const value = args.has(name) ? Number(args.get(name)) : fallback;
  if (value === undefined || Number.isNaN(value)) {
    throw new Error(`--${name} is required`);
  }
  return value;
};
const str = (name: string): string => {
  const value = args.get(name);
  if (!value) {
    throw new Error(`--${name} is required`);
  }
  return value;
};
const print = (result: object): void => {
  process.stdout.write(`${JSON.stringify(result)}\n`);
};

function serve(): void {
  const tcp = net.createServer(socket => {
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
  });
  const udp = dgram.createSocket('udp4');
  udp.on('message', (message, remote) =>
    udp.send(message, remote.port, remote.address),
  );
  let ready = 0;
  const onReady = (): void => {
    if (++ready === 2) {
      print({ listening: true });
    }
  };
  tcp.listen(num('tcp'), '0.0.0.0', onReady);
  udp.bind(num('udp'), '0.0.0.0', onReady);
}

function recv(): void {
  const warmupMs = num('warmup-ms', 500);
  const windowMs = num('window-ms', 3000);
  const server = net.createServer(socket => {
    server.close();
    let first: number | undefined;
    let inWindow = 0;
    let total = 0;
    let windowEnd: number | undefined;
    const finish = (endedEarly: boolean): void => {
      const now = Date.now();
      const start = (first ?? now) + warmupMs;
      const end = Math.min(now, start + windowMs);
      const seconds = Math.max(end - start, 1) / 1000;
      print({
        bytes: inWindow,
        total,
        seconds,
        kbitPerSecond: (inWindow * 8) / 1000 / seconds,
        endedEarly,
      });
      socket.destroy();
      process.exit(0);
    };
    socket.on('data', chunk => {
      const now = Date.now();
      first ??= now;
      total += chunk.length;
      if (now >= first + warmupMs) {
        windowEnd ??= first + warmupMs + windowMs;
        if (now <= windowEnd) {
          inWindow += chunk.length;
        } else {
          finish(false);
        }
      }
    });
    socket.on('end', () => finish(true));
    socket.on('error', () => finish(true));
    // Bound: even a trickle ends the measurement.
    setTimeout(() => finish(false), warmupMs + windowMs + 2000);
  });
  server.listen(num('port'), '0.0.0.0', () => print({ listening: true }));
}

function send(): void {
  const maxBytes = num('max-bytes');
  const chunk = Buffer.alloc(64 * 1024, 7);
  let sent = 0;
  const socket = net.connect(num('port'), str('host'));
  const done = (reason: string): void => {
    print({ sent, reason });
    socket.destroy();
    process.exit(0);
  };
  setTimeout(() => done('timeout'), num('timeout-ms'));
  socket.on('error', error => done(`error: ${error.message}`));
  socket.on('close', () => done('closed'));
  socket.on('connect', () => {
    const pump = (): void => {
      while (sent < maxBytes) {
        sent += chunk.length;
        if (!socket.write(chunk)) {
          socket.once('drain', pump);
          return;
        }
      }
      socket.end();
    };
    pump();
  });
}

function probe(): void {
  const count = num('count');
  const intervalMs = num('interval-ms', 5);
  const timeoutMs = num('timeout-ms', 1000);
  const host = str('host');
  const port = num('port');
  const sentAt = new Map<number, bigint>();
  const rtts: number[] = [];
  const socket = dgram.createSocket('udp4');
  socket.on('message', message => {
    const seq = message.readUInt32BE(0);
    const at = sentAt.get(seq);
    if (at !== undefined) {
      sentAt.delete(seq);
      rtts.push(Number(process.hrtime.bigint() - at) / 1e6);
    }
  });
  let seq = 0;
  const timer = setInterval(() => {
    const buffer = Buffer.alloc(64);
    buffer.writeUInt32BE(seq, 0);
    sentAt.set(seq, process.hrtime.bigint());
    socket.send(buffer, port, host);
    if (++seq >= count) {
      clearInterval(timer);
      setTimeout(() => {
        const sorted = [...rtts].sort((a, b) => a - b);
        const at = (q: number): number | null =>
          sorted.length
            ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
            : null;
        print({
          sent: count,
          received: rtts.length,
          lossPercent: ((count - rtts.length) / count) * 100,
          rttMedianMs: at(0.5),
          rttP90Ms: at(0.9),
        });
        socket.close();
        process.exit(0);
      }, timeoutMs);
    }
  }, intervalMs);
}

function connect(): void {
  const started = Date.now();
  const socket = net.connect(num('port'), str('host'));
  const done = (ok: boolean, error?: string): void => {
    print({ ok, ms: Date.now() - started, error });
    socket.destroy();
    process.exit(0);
  };
  socket.setTimeout(num('timeout-ms'), () => done(false, 'timeout'));
  socket.on('connect', () => done(true));
  socket.on('error', error => done(false, error.message));
}

const modes: Record<string, () => void> = { serve, recv, send, probe, connect };
if (!modes[mode]) {
  process.stderr.write(`unknown mode '${mode}'\n`);
  process.exit(2);
}
modes[mode]();
