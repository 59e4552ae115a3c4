import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import http2 from 'node:http2';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createLogger, createRegistry, loadConfig, type Registry } from '@netlab/common';
import { LogCapture } from '@netlab/testkit';
import { type PreparedTls, prepareTls } from '@netlab/tls';
import { schema } from '../src/config.js';
import { createHttpsServer, type HttpsServer } from '../src/server.js';

export { metricValue, waitUntil } from '@netlab/testkit';

export const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
export const README = fileURLToPath(new URL('../README.md', import.meta.url));

export const run = promisify(execFile);

export interface Started {
  server: HttpsServer;
  port: number;
  url: string;
  logs: LogCapture;
  registry: Registry;
  tls: PreparedTls;
  /** The PEM certificate the server started with (a trust anchor for clients). */
  ca: string;
  close(): Promise<void>;
}

/** https-secure in-process on an ephemeral loopback port, its certificate prepared as main.ts does. */
export async function startHttps(env: Record<string, string> = {}): Promise<Started> {
  const logs = new LogCapture();
  const logger = createLogger({
    service: 'https-secure',
    version: 'test',
    level: 'debug',
    destination: logs,
  });
  const registry = createRegistry('https-secure', { defaultMetrics: false });
  const config = loadConfig(schema, { PORT: '0', HOST: '127.0.0.1', ...env });
  const prepared = await prepareTls(config, { hostname: 'test-host', commonName: 'https-secure' });
  if (!prepared.ok) throw new Error(JSON.stringify(prepared.issues));
  const server = createHttpsServer(config, {
    logger,
    registry,
    tls: prepared.tls,
    version: 'test',
    pid: process.pid,
    hostname: 'test-host',
  });
  await server.listen();
  const port = server.address()!.port;
  return {
    server,
    port,
    url: `https://127.0.0.1:${port}`,
    logs,
    registry,
    tls: prepared.tls,
    ca: prepared.tls.credentials.cert,
    close: () => server.close({ timeoutMs: 0 }),
  };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
}

export interface ClientOptions {
  /** Trust anchor (PEM). */
  ca: string;
  cert?: string;
  key?: string;
  servername?: string;
}

/** One HTTP/1.1 request over TLS on a fresh connection. */
export function get1(
  url: string,
  opts: ClientOptions & { method?: string; headers?: Record<string, string>; body?: string },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: opts.method ?? 'GET',
        headers: opts.headers,
        ca: opts.ca,
        cert: opts.cert,
        key: opts.key,
        servername: opts.servername,
        agent: false,
        // As curl and browsers do; https.request's type leaves the TLS options out.
        ...({ ALPNProtocols: ['http/1.1'] } as object),
      },
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

/** One HTTP/2 request on its own session. */
export async function get2(
  url: string,
  opts: ClientOptions & { method?: string; headers?: Record<string, string>; body?: string },
): Promise<Reply> {
  const session = http2.connect(url, { ca: opts.ca, cert: opts.cert, key: opts.key });
  try {
    return await h2request(session, new URL(url).pathname + new URL(url).search, opts);
  } finally {
    session.close();
  }
}

/** One request on an open HTTP/2 session. */
export function h2request(
  session: http2.ClientHttp2Session,
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    session.once('error', reject);
    const stream = session.request(
      { ':path': path, ':method': opts.method ?? 'GET', ...opts.headers },
      { endStream: opts.body === undefined },
    );
    const chunks: Buffer[] = [];
    let headers: http2.IncomingHttpHeaders = {};
    stream.on('response', (h) => {
      headers = h;
    });
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('end', () => {
      // A session torn down under the stream (a refused client certificate)
      // ends it without a response: that is a failure, not an empty 200.
      if (headers[':status'] === undefined) reject(new Error('stream ended without a response'));
      resolve({
        status: Number(headers[':status']),
        headers: headers as Reply['headers'],
        body: Buffer.concat(chunks).toString(),
      });
    });
    stream.on('error', reject);
    if (opts.body !== undefined) stream.end(opts.body);
  });
}

/** A raw TLS connection (no HTTP), resolved once the handshake is done. */
export function tlsConnect(
  port: number,
  opts: Partial<tls.ConnectionOptions> & { ca: string },
): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ...opts }, () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** The SHA-256 fingerprint of the certificate a new connection is served. */
export async function servedFingerprint(port: number): Promise<string> {
  const socket = await tlsConnect(port, { ca: '', rejectUnauthorized: false });
  const fp = socket.getPeerX509Certificate()!.fingerprint256;
  socket.destroy();
  return fp;
}

export const fingerprintOf = (pem: string) => new X509Certificate(pem).fingerprint256;

/** A fresh temp dir. */
export const tempDir = (prefix: string) => mkdtemp(join(tmpdir(), `https-secure-${prefix}-`));

/** Writes `text` to a file in `dir` and returns its path. */
export async function fileIn(dir: string, name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}
