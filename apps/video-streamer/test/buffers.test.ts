import { closeSync, ftruncateSync, openSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { metricValue, waitUntil } from '@netlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Started, startStreamer, tempDir } from './helpers.js';

const CHUNK = 64 * 1024;
const CLIENTS = 10;

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  dir = await tempDir();
  const fd = openSync(join(dir.path, 'big.mp4'), 'w');
  ftruncateSync(fd, 256 * 1024 * 1024); // sparse
  closeSync(fd);
  const small = openSync(join(dir.path, 'small.mp4'), 'w');
  ftruncateSync(small, 2 * 1024 * 1024);
  closeSync(small);
});
afterAll(() => dir.remove());

/** Starts CLIENTS downloads that never read past their response head. */
async function stalledDownloads(app: Started): Promise<http.IncomingMessage[]> {
  return Promise.all(
    Array.from(
      { length: CLIENTS },
      () =>
        new Promise<http.IncomingMessage>((resolve, reject) =>
          http
            .get(`${app.url}/videos/big.mp4`, { agent: false }, (res) => {
              res.pause();
              res.on('error', () => {});
              resolve(res);
            })
            .on('error', reject),
        ),
    ),
  );
}

/** Resolves once every download is under way and the buffers they hold stop changing. */
async function untilStalled(app: Started): Promise<void> {
  let last = -1;
  let still = 0;
  await waitUntil(
    async () => {
      const held = await metricValue(app.registry, 'netlab_media_buffer_bytes');
      still = held === last && app.server.handler.streams === CLIENTS ? still + 1 : 0;
      last = held;
      return still >= 5;
    },
    { intervalMs: 100, timeoutMs: 15_000, what: 'the downloads to stall' },
  );
}

/**
 * Resolves once every download has ended and every buffer is back. Not at
 * once: a read in flight when its client left holds its buffer until the
 * thread pool returns it (seconds on a loaded machine).
 */
async function untilReleased(app: Started): Promise<void> {
  await waitUntil(
    async () =>
      app.server.handler.streams === 0 &&
      (await metricValue(app.registry, 'netlab_media_buffer_bytes')) === 0,
    { intervalMs: 50, timeoutMs: 15_000, what: 'every buffer back in the pool' },
  );
}

/** `n` downloads of the whole file at once, each read to its end. */
async function fullDownloads(app: Started, n: number): Promise<void> {
  await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<void>((resolve, reject) =>
          http
            .get(`${app.url}/videos/small.mp4`, { agent: false }, (res) => {
              res.resume();
              res.on('end', () => resolve());
            })
            .on('error', reject),
        ),
    ),
  );
}

describe('read buffers', () => {
  it.each([
    ['0', 2],
    [String(5 * CHUNK), 5],
  ])(
    'after a burst, keeps at most the budget idle (READ_AHEAD_BYTES %s: %i chunks), not every buffer the burst used',
    async (readAhead, kept) => {
      const app = await startStreamer(dir.path, {
        STREAM_CHUNK_BYTES: String(CHUNK),
        READ_AHEAD_BYTES: readAhead,
      });
      try {
        await fullDownloads(app, CLIENTS);
        await untilReleased(app);
        expect(await metricValue(app.registry, 'netlab_media_buffer_idle_bytes')).toBe(
          kept * CHUNK,
        );
      } finally {
        await app.close();
      }
    },
  );

  it('a stalled download holds one chunk once READ_AHEAD_BYTES is spent, and gives it back when cut', async () => {
    const app = await startStreamer(dir.path, {
      STREAM_CHUNK_BYTES: String(CHUNK),
      READ_AHEAD_BYTES: '0',
    });
    try {
      const clients = await stalledDownloads(app);
      await untilStalled(app);
      expect(await metricValue(app.registry, 'netlab_media_buffer_bytes')).toBe(CLIENTS * CHUNK);
      for (const res of clients) res.destroy();
      await untilReleased(app);
    } finally {
      await app.close();
    }
  });

  it('with read-ahead memory to spare, a stalled download holds up to four chunks', async () => {
    const app = await startStreamer(dir.path, { STREAM_CHUNK_BYTES: String(CHUNK) });
    try {
      const clients = await stalledDownloads(app);
      await untilStalled(app);
      expect(await metricValue(app.registry, 'netlab_media_buffer_bytes')).toBe(
        CLIENTS * 4 * CHUNK,
      );
      for (const res of clients) res.destroy();
      await untilReleased(app);
    } finally {
      await app.close();
    }
  });

  it('shares READ_AHEAD_BYTES when stalled downloads want more: each holds one, the budget holds exactly its size more', async () => {
    // 10 stalled downloads would read 3 chunks ahead each (30); the budget has room for 5.
    const app = await startStreamer(dir.path, {
      STREAM_CHUNK_BYTES: String(CHUNK),
      READ_AHEAD_BYTES: String(5 * CHUNK),
    });
    try {
      // Twice: the budget a cut download used is the next ones' again.
      for (let round = 0; round < 2; round++) {
        const clients = await stalledDownloads(app);
        await untilStalled(app);
        expect(await metricValue(app.registry, 'netlab_media_buffer_bytes')).toBe(
          (CLIENTS + 5) * CHUNK,
        );
        for (const res of clients) res.destroy();
        await untilReleased(app);
      }
    } finally {
      await app.close();
    }
  });
});
