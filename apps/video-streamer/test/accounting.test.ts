import { randomBytes } from 'node:crypto';
import { closeSync, ftruncateSync, openSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { metricValue } from '@netlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, type Started, startStreamer, tempDir } from './helpers.js';

const CHUNK = 64 * 1024;
const SMALL = randomBytes(3 * CHUNK + 777);
const BIG = 64 * 1024 * 1024;

let app: Started;
let dir: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  dir = await tempDir();
  await writeFile(join(dir.path, 'small.mp4'), SMALL);
  const fd = openSync(join(dir.path, 'big.mp4'), 'w');
  ftruncateSync(fd, BIG); // sparse
  closeSync(fd);
  app = await startStreamer(dir.path, { STREAM_CHUNK_BYTES: String(CHUNK) });
});
afterAll(async () => {
  await app.close();
  await dir.remove();
});

const sent = () => metricValue(app.registry, 'netlab_media_bytes_sent_total');

describe('what the access log and metrics say was sent', () => {
  it('the bytes-sent counter and each access line equal the body bytes the client got', async () => {
    const before = await sent();
    const asks: Array<[string, Record<string, string>]> = [
      ['GET', {}],
      ['GET', { range: 'bytes=1000-' }],
      ['GET', { range: `bytes=-${CHUNK + 1}` }],
      ['GET', { range: 'bytes=5-5' }],
      ['HEAD', {}],
      ['GET', { range: 'bytes=0-9,20-29' }],
    ];
    let total = 0;
    let multipart = 0;
    for (const [i, [method, headers]] of asks.entries()) {
      const id = `acct-${i}`;
      const res = await request(`${app.url}/videos/small.mp4`, {
        method,
        headers: { ...headers, 'x-request-id': id },
      });
      expect(res.status).toBe(headers.range === undefined ? 200 : 206);
      total += res.body.length;
      if (headers.range?.includes(',')) multipart = Number(res.headers['content-length']);
      expect(await app.logs.waitFor((l) => l.requestId === id)).toMatchObject({
        status: res.status,
        bytes: res.body.length,
      });
    }
    // Two parts of 10 bytes after heads of 90 and 92 bytes (`0-9`, `20-29`), and a closing delimiter of 32.
    expect(multipart).toBe(90 + 10 + 92 + 10 + 32);
    expect(total).toBe(SMALL.length + (SMALL.length - 1000) + CHUNK + 1 + 1 + 0 + multipart);
    expect(await sent()).toBe(before + total);
  });

  it('a client that leaves mid-download is logged 499 with the bytes the server handed its socket', async () => {
    const before = await sent();
    let received = 0;
    await new Promise<void>((resolve, reject) => {
      http
        .get(
          `${app.url}/videos/big.mp4`,
          { agent: false, headers: { 'x-request-id': 'leaver' } },
          (res) => {
            res.on('data', (d: Buffer) => {
              received += d.length;
              // Gone after the first 3 chunks, with 63 MiB still to come.
              if (received >= 3 * CHUNK) {
                res.destroy();
                resolve();
              }
            });
            res.on('error', () => {});
          },
        )
        .on('error', reject);
    });
    const line = await app.logs.waitFor((l) => l.requestId === 'leaver');
    expect(line.status).toBe(499);
    const bytes = Number(line.bytes);
    // The server counts what its socket took: at least what the client read,
    // a whole number of chunks, and far from the whole file.
    expect(bytes).toBeGreaterThanOrEqual(received);
    expect(bytes % CHUNK).toBe(0);
    expect(bytes).toBeLessThan(BIG / 4);
    expect(await sent()).toBe(before + bytes);
    const counted = await metricValue(
      app.registry,
      'netlab_http_requests_total',
      'route="/videos",status="499"',
    );
    expect(counted).toBe(1);
  });
});
