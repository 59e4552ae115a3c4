import { truncate, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { metricValue } from '@netlab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { type Started, startStreamer, tempDir } from './helpers.js';

// A file that shrinks while it is being sent (a log rotated, a file being
// replaced in place): the client must not wait for bytes that will never
// come, and the access line must not blame it.

let app: Started | undefined;
let dir: Awaited<ReturnType<typeof tempDir>> | undefined;
afterEach(async () => {
  await app?.close();
  await dir?.remove();
  app = undefined;
  dir = undefined;
});

const SIZE = 2 * 1024 * 1024;

describe('a file that shrinks during a download', () => {
  it('cuts the response at once, logs the status sent with NETLAB_ERR_FILE_READ and the bytes that went out', async () => {
    dir = await tempDir();
    const file = join(dir.path, 'shrinking.mp4');
    await writeFile(file, Buffer.alloc(SIZE, 7));
    app = await startStreamer(dir.path);
    const outcome = await new Promise<{ received: number; how: string; ms: number }>(
      (resolve, reject) => {
        // 256 KiB/s: the whole file would take 8 s.
        const req = http.get(`${app!.url}/videos/shrinking.mp4?rate=262144`, (res) => {
          expect(res.statusCode).toBe(200);
          expect(Number(res.headers['content-length'])).toBe(SIZE);
          let received = 0;
          let cutAt = 0;
          res.on('data', (chunk: Buffer) => {
            if (received === 0) {
              cutAt = performance.now();
              void truncate(file, 64 * 1024);
            }
            received += chunk.length;
          });
          res.on('end', () => resolve({ received, how: 'end', ms: performance.now() - cutAt }));
          res.on('error', () => resolve({ received, how: 'error', ms: performance.now() - cutAt }));
          res.on('aborted', () =>
            resolve({ received, how: 'aborted', ms: performance.now() - cutAt }),
          );
        });
        req.on('error', reject);
      },
    );
    expect(outcome.how).not.toBe('end');
    expect(outcome.received).toBeLessThan(SIZE);
    // Not left to time out: cut as soon as a read came back short.
    expect(outcome.ms).toBeLessThan(3000);
    const line = await app.logs.waitFor(
      (l) => l.msg === 'request' && l.path === '/videos/shrinking.mp4',
    );
    expect(line).toMatchObject({ status: 200, code: 'NETLAB_ERR_FILE_READ' });
    expect(line.bytes as number).toBeLessThan(SIZE);
    expect(line.bytes as number).toBe(
      await metricValue(app.registry, 'netlab_media_bytes_sent_total'),
    );
    const warn = await app.logs.waitFor((l) => l.msg === 'read failed');
    expect(warn).toMatchObject({ level: 'warn', code: 'NETLAB_ERR_FILE_READ' });
    expect(app.logs.find((l) => l.status === 499)).toEqual([]);
  });
});
