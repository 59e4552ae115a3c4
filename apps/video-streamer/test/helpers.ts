import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, createRegistry, loadConfig, type Registry } from '@netlab/common';
import { connect, LogCapture } from '@netlab/testkit';
import { schema } from '../src/config.js';
import { createStreamerServer, type StreamerServer } from '../src/server.js';

export const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
export const README = fileURLToPath(new URL('../README.md', import.meta.url));
export const SAMPLE = fileURLToPath(new URL('../media/sample.mp4', import.meta.url));

export interface Started {
  server: StreamerServer;
  port: number;
  url: string;
  logs: LogCapture;
  registry: Registry;
  close(): Promise<void>;
}

/** video-streamer in-process on an ephemeral loopback port, serving `mediaDir`. */
export async function startStreamer(
  mediaDir: string,
  env: Record<string, string> = {},
): Promise<Started> {
  const logs = new LogCapture();
  const logger = createLogger({
    service: 'video-streamer',
    version: 'test',
    level: 'debug',
    destination: logs,
  });
  const registry = createRegistry('video-streamer', { defaultMetrics: false });
  const config = loadConfig(schema, {
    PORT: '0',
    HOST: '127.0.0.1',
    MEDIA_DIR: mediaDir,
    ...env,
  });
  const server = createStreamerServer(config, { logger, registry });
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

/** A fresh temp folder; `remove()` deletes it with everything in it. */
export async function tempDir(prefix = 'video-streamer-') {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request on a fresh connection, the whole body read as bytes. */
export function request(
  url: string,
  opts: { method?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: opts.method ?? 'GET', headers: opts.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/**
 * Sends `path` exactly as written in a raw HTTP/1.1 request line (fetch and
 * `new URL` would normalise `..` away before sending) and returns the status
 * and the whole response as text.
 */
export async function rawGet(
  port: number,
  path: string,
): Promise<{ status: number; text: string }> {
  const socket = await connect(port);
  socket.end(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  await once(socket, 'close');
  const text = Buffer.concat(chunks).toString('latin1');
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text };
}

/** Open file descriptors of a process, from /proc/<pid>/fd. */
export async function openFds(pid: number): Promise<number> {
  const { readdir } = await import('node:fs/promises');
  return (await readdir(`/proc/${pid}/fd`)).length;
}

/** An ISO BMFF box (ISO/IEC 14496-12 §4.2): size, type, body. */
export function box(type: string, ...body: Buffer[]): Buffer {
  const content = Buffer.concat(body);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + content.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, content]);
}

/**
 * The smallest MP4 a listing reads: `ftyp`, then `moov` with an `mvhd` of
 * `version` 0 (32-bit times) or 1 (64-bit times) saying `duration` ticks of
 * `timescale` per second.
 */
export function tinyMp4(
  version: 0 | 1,
  timescale: number,
  duration: bigint,
  /** Bytes of a `free` box put in `moov` before `mvhd` (a big moov is walked on disk, not in memory). */
  padding = 0,
): Buffer {
  const mvhd =
    version === 0
      ? Buffer.alloc(100) // version+flags, creation, modification, timescale, duration, …
      : Buffer.alloc(112); // version+flags, 64-bit creation and modification, timescale, 64-bit duration, …
  mvhd[0] = version;
  if (version === 0) {
    mvhd.writeUInt32BE(timescale, 12);
    mvhd.writeUInt32BE(Number(duration), 16);
  } else {
    mvhd.writeUInt32BE(timescale, 20);
    mvhd.writeBigUInt64BE(duration, 24);
  }
  const ftyp = box('ftyp', Buffer.from('isom\0\0\x02\0isomiso2', 'latin1'));
  const free = padding > 0 ? [box('free', Buffer.alloc(padding))] : [];
  return Buffer.concat([ftyp, box('moov', ...free, box('mvhd', mvhd))]);
}
