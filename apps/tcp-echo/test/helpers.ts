import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { createLogger, createRegistry, loadConfig, type Registry } from '@netlab/common';
import { LogCapture } from '@netlab/testkit';

export { connect, metricValue, sha256, tcpNoDelayOf } from '@netlab/testkit';

import { schema } from '../src/config.js';
import { createEchoServer, type EchoServer } from '../src/server.js';

export const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
export const README = fileURLToPath(new URL('../README.md', import.meta.url));

export interface Started {
  server: EchoServer;
  port: number;
  logs: LogCapture;
  registry: Registry;
  close(): Promise<void>;
}

/** The echo server in-process on an ephemeral loopback port. */
export async function startEcho(env: Record<string, string> = {}): Promise<Started> {
  const logs = new LogCapture();
  const logger = createLogger({
    service: 'tcp-echo',
    version: 'test',
    level: 'debug',
    destination: logs,
  });
  const registry = createRegistry('tcp-echo', { defaultMetrics: false });
  const config = loadConfig(schema, { PORT: '0', HOST: '127.0.0.1', ...env });
  const server = createEchoServer(config, { logger, registry });
  await server.listen();
  return {
    server,
    port: server.address()!.port,
    logs,
    registry,
    close: () => server.close({ timeoutMs: 0 }),
  };
}

/** Sends `payload` (respecting backpressure), half-closes, and resolves with everything read back. */
export function roundTrip(port: number, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', reject);
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    socket.end(payload);
  });
}
