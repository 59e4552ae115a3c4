import { once } from 'node:events';
import net from 'node:net';
import { createLogger, createRegistry, loadConfig, type Registry } from '@netlab/common';
import { LogCapture } from '@netlab/testkit';
import { acceptProxyProtocol, connectionOrigin, proxyProtocolVars } from '../src/index.js';

export { metricValue } from '@netlab/testkit';

export interface Gated {
  port: number;
  logs: LogCapture;
  registry: Registry;
  /** server.close(): stops accepting, open connections stay. */
  stopListening(): void;
  /** Connections the server has accepted and not yet closed (gate included). */
  accepted(): Promise<number>;
  close(): Promise<void>;
}

/**
 * A net server behind the gate whose downstream answers with the
 * connection's origin as one JSON line, then echoes what follows: so a test
 * sees both what the gate decided and that no byte after the header was lost.
 */
export async function startGated(env: Record<string, string>): Promise<Gated> {
  const logs = new LogCapture();
  const logger = createLogger({
    service: 'gate-test',
    version: 'test',
    level: 'debug',
    destination: logs,
  });
  const registry = createRegistry('gate-test', { defaultMetrics: false });
  const config = loadConfig(proxyProtocolVars(), env);
  const open = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.write(`${JSON.stringify(connectionOrigin(socket))}\n`);
    socket.pipe(socket);
    socket.on('error', () => {});
  });
  acceptProxyProtocol(server, config, { logger, registry });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    logs,
    registry,
    stopListening: () => server.close(),
    accepted: () =>
      new Promise((resolve, reject) =>
        server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
      ),
    close: () => {
      for (const socket of open) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export interface Exchange {
  /** Everything the server sent until it closed. */
  text: string;
  /** The first line, parsed (the origin), if any. */
  origin: ReturnType<typeof connectionOrigin> | null;
}

/** Connects, sends `parts` one after another (paced), half-closes, reads until the server closes. */
export async function exchange(
  port: number,
  parts: (Buffer | string)[],
  opts: { end?: boolean } = {},
): Promise<Exchange> {
  const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', () => {});
  const closed = once(socket, 'close');
  await once(socket, 'connect');
  for (const part of parts) {
    if (socket.destroyed) break;
    socket.write(part);
    // Pacing only, so parts tend to arrive as separate segments; nothing waits on it.
    await new Promise((r) => setTimeout(r, 2));
  }
  if (opts.end !== false) socket.end();
  await closed;
  const text = Buffer.concat(chunks).toString('latin1');
  const first = text.indexOf('\n');
  return { text, origin: first === -1 ? null : JSON.parse(text.slice(0, first)) };
}

export function bytesOf(s: string | Buffer): Buffer[] {
  const b = typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
  return [...b].map((x) => Buffer.from([x]));
}
