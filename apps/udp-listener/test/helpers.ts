import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import {
  type AdminServer,
  createAdminServer,
  createLogger,
  createRegistry,
  loadConfig,
  type Registry,
} from '@netlab/common';
import { LogCapture, waitUntil } from '@netlab/testkit';
import { schema } from '../src/config.js';
import { createUdpListener, type UdpListener } from '../src/server.js';

export { metricValue } from '@netlab/testkit';

export const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
export const README = fileURLToPath(new URL('../README.md', import.meta.url));

export interface Started {
  listener: UdpListener;
  port: number;
  logs: LogCapture;
  registry: Registry;
  /** GET an admin path (the real admin server, with the listener's routes) as JSON. */
  admin<T = unknown>(path: string): Promise<T>;
  /** Resolves once the listener has counted `n` datagrams in all. */
  received(n: number): Promise<void>;
  close(): Promise<void>;
}

/** The listener in-process on an ephemeral port, with its admin server. HOST defaults to 127.0.0.1. */
export async function startListener(env: Record<string, string> = {}): Promise<Started> {
  const logs = new LogCapture();
  const logger = createLogger({
    service: 'udp-listener',
    version: 'test',
    level: 'debug',
    destination: logs,
  });
  const registry = createRegistry('udp-listener', { defaultMetrics: false });
  const config = loadConfig(schema, { PORT: '0', HOST: '127.0.0.1', ...env });
  const listener = createUdpListener(config, { logger, registry });
  await listener.listen();
  const admin: AdminServer = createAdminServer({
    logger,
    metrics: registry,
    routes: () => listener.adminRoutes,
  });
  admin.setReadiness('ready');
  const { port: adminPort } = await admin.listen(0, '127.0.0.1');
  return {
    listener,
    port: listener.address()!.port,
    logs,
    registry,
    admin: async (path) => {
      const res = await fetch(`http://127.0.0.1:${adminPort}${path}`);
      if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
      return (await res.json()) as never;
    },
    received: (n) =>
      waitUntil(() => listener.received >= n, {
        timeoutMs: 10_000,
        intervalMs: 5,
        what: `${n} datagrams counted (have ${listener.received})`,
      }).then(() => {}),
    close: async () => {
      await admin.close();
      await listener.close({ timeoutMs: 0 });
    },
  };
}

export interface Client {
  socket: dgram.Socket;
  /** Where replies come from: the address the client sends to. */
  host: string;
  /** The client's own port, as the server sees it. */
  port: number;
  send(data: Buffer | string, port: number): Promise<void>;
  /** The next datagram that arrives (already arrived or yet to come). */
  next(timeoutMs?: number): Promise<Buffer>;
  /** Every datagram received so far and not yet taken by next(). */
  readonly queued: Buffer[];
  close(): void;
}

/** A real dgram socket on loopback (127.0.0.1, ::1 or another local address). */
export async function udpClient(host = '127.0.0.1'): Promise<Client> {
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const queued: Buffer[] = [];
  let waiting: ((data: Buffer) => void) | undefined;
  socket.on('message', (data: Buffer) => {
    if (waiting) {
      const w = waiting;
      waiting = undefined;
      w(data);
    } else {
      queued.push(data);
    }
  });
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  return {
    socket,
    host,
    port: socket.address().port,
    queued,
    send: (data, port) =>
      new Promise((resolve, reject) =>
        socket.send(data, port, host, (err) => (err ? reject(err) : resolve())),
      ),
    next: (timeoutMs = 5000) => {
      const first = queued.shift();
      if (first) return Promise.resolve(first);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no datagram within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiting = (data) => {
          clearTimeout(timer);
          resolve(data);
        };
      });
    },
    close: () => socket.close(),
  };
}

/**
 * Sends one UDP datagram over IPv4 loopback with a source port of our
 * choosing, as a forger would: the UDP header written by hand and sent on a
 * raw socket (socat IP4-SENDTO, protocol 17), which needs root. Checksum 0
 * means "none" over IPv4 (RFC 768).
 */
export async function forgeUdp4(srcPort: number, dstPort: number, payload: Buffer): Promise<void> {
  const header = Buffer.alloc(8);
  header.writeUInt16BE(srcPort, 0);
  header.writeUInt16BE(dstPort, 2);
  header.writeUInt16BE(8 + payload.length, 4);
  const socat = spawn('socat', ['-u', '-', 'IP4-SENDTO:127.0.0.1:17'], { stdio: 'pipe' });
  socat.stdin.end(Buffer.concat([header, payload]));
  const [code] = await once(socat, 'exit');
  if (code !== 0) throw new Error(`socat exited ${code}`);
}

export const isRoot = process.getuid?.() === 0;
