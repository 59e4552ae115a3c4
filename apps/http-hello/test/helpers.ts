import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, createRegistry, loadConfig, type Registry } from '@netlab/common';
import { captureLogs, LogCapture } from '@netlab/testkit';
import { onTestFinished } from 'vitest';

export { connect, metricValue, sha256 } from '@netlab/testkit';

import { schema } from '../src/config.js';
import { createHelloServer, type HelloDeps, type HelloServer } from '../src/server.js';

export const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
export const README = fileURLToPath(new URL('../README.md', import.meta.url));

export interface Started {
  server: HelloServer;
  port: number;
  url: string;
  logs: LogCapture;
  registry: Registry;
  close(): Promise<void>;
}

/** http-hello in-process on an ephemeral loopback port; `deps` overrides the test identity. */
export async function startHello(
  env: Record<string, string> = {},
  deps: Partial<Omit<HelloDeps, 'logger' | 'registry'>> = {},
): Promise<Started> {
  const logs = new LogCapture();
  const logger = createLogger({
    service: 'http-hello',
    version: 'test',
    level: 'debug',
    destination: logs,
  });
  const registry = createRegistry('http-hello', { defaultMetrics: false });
  const config = loadConfig(schema, { PORT: '0', HOST: '127.0.0.1', ...env });
  const server = createHelloServer(config, {
    logger,
    registry,
    version: 'test',
    pid: process.pid,
    hostname: 'test-host',
    ...deps,
  });
  await server.listen();
  const port = server.address()!.port;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    logs,
    registry,
    close: () => server.close({ timeoutMs: 0 }),
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request on a fresh connection (no keep-alive pool), the whole body read as text. */
export function request(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: opts.method ?? 'GET', headers: opts.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Everything the server sends on `socket` until it closes the connection. */
export async function readUntilClose(socket: net.Socket): Promise<string> {
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', () => {});
  await once(socket, 'close');
  return Buffer.concat(chunks).toString('latin1');
}

/** A metric from a running process's admin /metrics, summed over every series that matches. */
export async function scrape(adminPort: number, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && l.includes(labels))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/**
 * Starts the app with its stdout on a named pipe (FIFO) that this test
 * reads: a real pipe, as under docker or `| jq` (Node's own child stdio is a
 * socket pair, where no write is ever split). Killed when the test ends.
 */
export async function startOnFifo(env: Record<string, string>) {
  const dir = await mkdtemp(join(tmpdir(), 'http-hello-fifo-'));
  const fifo = join(dir, 'stdout');
  execFileSync('mkfifo', [fifo]);
  // Open the read end first (non-blocking, so it does not wait for a writer),
  // then the write end the child inherits.
  const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeFd = openSync(fifo, constants.O_WRONLY);
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ADMIN_PORT: '0', ...env },
    stdio: ['ignore', writeFd, 'pipe'],
  });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  closeSync(writeFd);
  await rm(dir, { recursive: true });
  const stdout = new net.Socket({ fd: readFd, readable: true, writable: false });
  const { logs, closed } = captureLogs(stdout);
  const ready = await logs.waitFor((l) => typeof l.adminPort === 'number', 15_000);
  return {
    child,
    stdout,
    logs,
    closed,
    stderr: () => stderr,
    port: ready.port as number,
    adminPort: ready.adminPort as number,
  };
}
