import { once } from 'node:events';
import type tls from 'node:tls';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { createLogger, createRegistry, loadConfig, type Registry } from '@netlab/common';
import { LogCapture } from '@netlab/testkit';
import type { PreparedTls } from '@netlab/tls';
import { type ClientOptions, NetlabClient } from '../src/client.js';
import { schema } from '../src/config.js';
import { FrameDecoder } from '../src/frame-codec.js';
import { ALPN, decodeError, errorName, type Frame } from '../src/protocol.js';
import { createProtocolServer, type ProtocolServer } from '../src/server.js';
import { preparedTls, type TestPki } from './pki.js';

export const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
export const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
export const README = fileURLToPath(new URL('../README.md', import.meta.url));

export interface Started {
  server: ProtocolServer;
  port: number;
  logs: LogCapture;
  registry: Registry;
  /** A client trusting the test CA, connected to this server. */
  client(opts?: Partial<ClientOptions>): Promise<NetlabClient>;
  close(): Promise<void>;
}

/** The protocol server in-process on an ephemeral loopback port. */
export async function startServer(
  pki: TestPki,
  env: Record<string, string> = {},
  prepared: PreparedTls = preparedTls(pki),
): Promise<Started> {
  const logs = new LogCapture();
  const logger = createLogger({
    service: 'tls-custom-protocol',
    version: 'test',
    level: 'debug',
    destination: logs,
  });
  const registry = createRegistry('tls-custom-protocol', { defaultMetrics: false });
  const config = loadConfig(schema, { PORT: '0', HOST: '127.0.0.1', ...env });
  const server = createProtocolServer(config, { logger, registry, tls: prepared });
  await server.listen();
  const port = server.address()!.port;
  const clients: NetlabClient[] = [];
  return {
    server,
    port,
    logs,
    registry,
    async client(opts = {}) {
      const client = await NetlabClient.connect({
        port,
        ca: pki.ca.cert,
        host: '127.0.0.1',
        ...opts,
      });
      clients.push(client);
      return client;
    },
    async close() {
      for (const c of clients) c.close();
      await server.close({ timeoutMs: 0 });
    },
  };
}

export interface RawConnection {
  socket: tls.TLSSocket;
  /** Every frame received so far, decoded. */
  frames: Frame[];
  /** Resolves with the first received frame matching `match`. */
  waitFor(match: (f: Frame) => boolean): Promise<Frame>;
  /** Resolves when the server has closed the connection (end or close). */
  closed: Promise<void>;
}

/**
 * A TLS connection that sends whatever bytes a test gives it — no client
 * library to fix a bad frame — and decodes what comes back.
 */
export async function rawConnect(
  port: number,
  pki: TestPki,
  opts: tls.ConnectionOptions = {},
): Promise<RawConnection> {
  const socket = tlsConnect({
    port,
    host: '127.0.0.1',
    ca: pki.ca.cert,
    ALPNProtocols: [ALPN],
    ...opts,
  });
  await once(socket, 'secureConnect');
  const decoder = new FrameDecoder({ maxFrameBytes: 64 * 1024 * 1024, side: 'client' });
  const frames: Frame[] = [];
  let waiters: Array<{ match: (f: Frame) => boolean; resolve: (f: Frame) => void }> = [];
  socket.on('data', (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) {
      frames.push(frame);
      waiters = waiters.filter((w) => {
        if (!w.match(frame)) return true;
        w.resolve(frame);
        return false;
      });
    }
  });
  const closed = new Promise<void>((resolve) => {
    socket.once('end', resolve);
    socket.once('close', resolve);
  });
  socket.on('error', () => {});
  return {
    socket,
    frames,
    closed,
    waitFor(match) {
      const seen = frames.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}

/** The ERROR frame's code name (UNKNOWN_TYPE, …) and id. */
export function errorOf(frame: Frame): { name: string; id: number } {
  return { name: errorName(decodeError(frame.payload).code), id: frame.id };
}
