import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createLogger, createRegistry, loadConfig, type Registry } from '@netlab/common';
import { LogCapture } from '@netlab/testkit';

export { connect, metricValue, sha256 } from '@netlab/testkit';

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

const exec = promisify(execFile);

/**
 * The TCP_NODELAY option (1 or 0) of the one socket this process accepted on
 * `port`, read back from the kernel: `ss -p` names its file descriptor, and
 * perl (in every Debian, perl-base is essential), given that descriptor, asks
 * getsockopt. Node can set the option but never reports it, and Nagle's delay
 * is too small and too timing-bound to observe reliably on loopback.
 */
export async function tcpNoDelayOf(port: number): Promise<number> {
  const { stdout: ss } = await exec('ss', [
    '-tnpH',
    'state',
    'established',
    `( sport = :${port} )`,
  ]);
  const fds = [...ss.matchAll(new RegExp(`pid=${process.pid},fd=(\\d+)`, 'g'))].map((m) => m[1]);
  if (fds.length !== 1)
    throw new Error(`expected one accepted socket on port ${port}, ss says:\n${ss}`);
  const perl = spawn(
    'perl',
    [
      '-MSocket=IPPROTO_TCP,TCP_NODELAY',
      '-e',
      'open(my $s, "+<&=", 3) or die "fd 3: $!"; ' +
        'my $v = getsockopt($s, IPPROTO_TCP, TCP_NODELAY) or die "getsockopt: $!"; ' +
        'print unpack("i", $v)',
    ],
    { stdio: ['ignore', 'pipe', 'pipe', Number(fds[0])] },
  );
  let out = '';
  let err = '';
  perl.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  perl.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const [code] = (await once(perl, 'exit')) as [number];
  if (code !== 0) throw new Error(`perl getsockopt failed: ${err}`);
  return Number(out);
}
