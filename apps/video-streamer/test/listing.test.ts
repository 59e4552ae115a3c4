import { copyFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { metricValue } from '@netlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, SAMPLE, type Started, startStreamer, tempDir, tinyMp4 } from './helpers.js';

const WEBM = fileURLToPath(new URL('./fixtures/tiny.webm', import.meta.url));

let app: Started;
let dir: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  dir = await tempDir();
  await copyFile(SAMPLE, join(dir.path, 'clip.mp4'));
  await copyFile(WEBM, join(dir.path, 'tiny.webm'));
  for (const name of ['clip.vtt', 'clip.en.vtt', 'clip.jpg', 'notes.txt', 'blob.bin', 'song.mp3']) {
    await writeFile(join(dir.path, name), 'x');
  }
  // A duration past 2^32 ticks: only a 64-bit read of a version-1 mvhd gets it right.
  await writeFile(join(dir.path, 'long.mp4'), tinyMp4(1, 1_000_000, 5_000_000_000n));
  await writeFile(join(dir.path, 'short.mov'), tinyMp4(0, 600, 1_500n));
  // A moov over 1 MiB is walked box by box on disk instead of read whole.
  await writeFile(join(dir.path, 'zbig.m4v'), tinyMp4(1, 1000, 7_250n, 2 * 1024 * 1024));
  app = await startStreamer(dir.path, { MAX_LISTED_FILES: '50' });
});
afterAll(async () => {
  await app.close();
  await dir.remove();
});

interface Listed {
  name: string;
  [key: string]: unknown;
}
async function list(
  query = '',
): Promise<{ status: number; files: Listed[]; headers: Record<string, unknown> }> {
  const res = await request(`${app.url}/api/videos${query}`);
  return { status: res.status, files: JSON.parse(res.body.toString()), headers: res.headers };
}
const names = (files: Listed[]) => files.map((f) => f.name);

describe('GET /api/videos', () => {
  it('lists audio and video only by default, and every file with ?all=1', async () => {
    expect(names((await list()).files)).toEqual([
      'clip.mp4',
      'long.mp4',
      'short.mov',
      'song.mp3',
      'tiny.webm',
      'zbig.m4v',
    ]);
    expect(names((await list('?all=1')).files)).toEqual([
      'blob.bin',
      'clip.en.vtt',
      'clip.jpg',
      'clip.mp4',
      'clip.vtt',
      'long.mp4',
      'notes.txt',
      'short.mov',
      'song.mp3',
      'tiny.webm',
      'zbig.m4v',
    ]);
  });

  it('gives an MP4 its duration, picture size, codecs, mtime, subtitles and poster', async () => {
    // Whole milliseconds, truncated (Node's Date-valued `mtime` rounds instead).
    const { mtimeNs } = await stat(join(dir.path, 'clip.mp4'), { bigint: true });
    const mtime = new Date(Number(mtimeNs / 1_000_000n));
    const clip = (await list()).files.find((f) => f.name === 'clip.mp4');
    expect(clip).toEqual({
      name: 'clip.mp4',
      size: 126244,
      type: 'video/mp4',
      mtime: mtime.toISOString(),
      duration: 6,
      width: 640,
      height: 360,
      codecs: ['avc1.4d401e', 'mp4a.40.2'],
      url: '/videos/clip.mp4',
      subtitles: [
        { url: '/videos/clip.en.vtt', lang: 'en' },
        { url: '/videos/clip.vtt', lang: null },
      ],
      poster: '/videos/clip.jpg',
    });
  });

  it('reads a WebM’s duration, picture size and codecs from its Info and Tracks', async () => {
    expect((await list()).files.find((f) => f.name === 'tiny.webm')).toMatchObject({
      type: 'video/webm',
      duration: 1.008,
      width: 160,
      height: 90,
      codecs: ['vp9', 'opus'],
      subtitles: [],
      poster: null,
    });
  });

  it('reads the 64-bit duration of a version-1 mvhd and the 32-bit one of version 0', async () => {
    const files = (await list()).files;
    expect(files.find((f) => f.name === 'long.mp4')).toMatchObject({ duration: 5000 });
    expect(files.find((f) => f.name === 'zbig.m4v')).toMatchObject({ duration: 7.25 });
    expect(files.find((f) => f.name === 'short.mov')).toMatchObject({
      type: 'video/quicktime',
      duration: 2.5,
      width: null,
      height: null,
      codecs: [],
    });
  });

  it('pages with ?offset= and ?limit=: X-Total-Count, and a Link to the next page until the last', async () => {
    const first = await list('?limit=2');
    expect(names(first.files)).toEqual(['clip.mp4', 'long.mp4']);
    expect(first.headers['x-total-count']).toBe('6');
    expect(first.headers.link).toBe('</api/videos?offset=2&limit=2>; rel="next"');
    const last = await list('?offset=4&limit=2');
    expect(names(last.files)).toEqual(['tiny.webm', 'zbig.m4v']);
    expect(last.headers.link).toBeUndefined();
    const past = await list('?offset=10');
    expect(past.files).toEqual([]);
    const all = await list('?all=1&offset=3&limit=3');
    expect(names(all.files)).toEqual(['clip.mp4', 'clip.vtt', 'long.mp4']);
    expect(all.headers['x-total-count']).toBe('11');
    expect(all.headers.link).toBe('</api/videos?offset=6&limit=3&all=1>; rel="next"');
  });

  it('takes up to MAX_LISTED_FILES per page, and that many by default', async () => {
    expect((await list('?limit=50')).status).toBe(200);
    expect((await list()).headers.link).toBeUndefined();
  });

  it.each([
    '?limit=0',
    '?limit=51',
    '?limit=abc',
    '?limit=1.5',
    '?offset=-1',
    '?offset=1e3',
    '?offset=1234567890',
    '?all=yes',
  ])('%s → 400 NETLAB_ERR_BAD_QUERY', async (query) => {
    const res = await request(`${app.url}/api/videos${query}`);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body.toString())).toMatchObject({ code: 'NETLAB_ERR_BAD_QUERY' });
  });
});

describe('the listing cache', () => {
  const FILES = 300;
  let many: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    many = await tempDir();
    for (let i = 0; i < FILES; i++) {
      const name = `v${String(i).padStart(3, '0')}.mp4`;
      await writeFile(join(many.path, name), tinyMp4(0, 1000, BigInt(1000 + i)));
    }
  });
  afterAll(() => many.remove());

  const probes = (s: Started) => metricValue(s.registry, 'netlab_media_probes_total');

  it(`opens each of ${FILES} files once: a second listing opens none, a changed file is read again`, async () => {
    const s = await startStreamer(many.path);
    try {
      const first = (await request(`${s.url}/api/videos`)).body.toString();
      expect(await probes(s)).toBe(FILES);
      expect(JSON.parse(first)[7]).toMatchObject({ name: 'v007.mp4', duration: 1.007 });
      const second = (await request(`${s.url}/api/videos`)).body.toString();
      expect(await probes(s)).toBe(FILES);
      expect(second).toBe(first);

      // A new mtime is new content as far as the cache knows.
      await writeFile(join(many.path, 'v007.mp4'), tinyMp4(0, 1000, 9000n));
      await utimes(join(many.path, 'v007.mp4'), new Date(), new Date(Date.now() + 5000));
      const third = JSON.parse((await request(`${s.url}/api/videos`)).body.toString());
      expect(await probes(s)).toBe(FILES + 1);
      expect(third[7]).toMatchObject({ name: 'v007.mp4', duration: 9 });
      // Only the page asked for is read, and the page is served from the cache.
      await request(`${s.url}/api/videos?offset=10&limit=5`);
      expect(await probes(s)).toBe(FILES + 1);
    } finally {
      await s.close();
    }
  });

  it('makes one listing for concurrent requests of the same page: each file opened once', async () => {
    const s = await startStreamer(many.path);
    try {
      const bodies = await Promise.all(
        Array.from({ length: 10 }, async () => (await request(`${s.url}/api/videos`)).body),
      );
      expect(await probes(s)).toBe(FILES);
      for (const b of bodies) expect(b).toEqual(bodies[0]);
    } finally {
      await s.close();
    }
  });

  it('holds at most INFO_CACHE_ENTRIES files: past it, listings read files again', async () => {
    const s = await startStreamer(many.path, { INFO_CACHE_ENTRIES: '2' });
    try {
      await request(`${s.url}/api/videos?limit=3`);
      expect(await probes(s)).toBe(3);
      // v000 and v001 cached, then v002 pushed v000 out; each read pushes the next one out.
      await request(`${s.url}/api/videos?limit=3`);
      expect(await probes(s)).toBe(6);
      await request(`${s.url}/api/videos?offset=1&limit=2`);
      expect(await probes(s)).toBe(6);
    } finally {
      await s.close();
    }
  });
});
