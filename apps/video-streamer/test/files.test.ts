import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, type Started, startStreamer, tempDir } from './helpers.js';

const NINE = Buffer.from('abcdefghi');

let app: Started;
let dir: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  dir = await tempDir();
  await writeFile(join(dir.path, 'nine.mp4'), NINE);
  await writeFile(join(dir.path, 'empty.webm'), '');
  for (const name of ['a.mkv', 'a.mp3', 'a.m4a', 'a.vtt', 'a.unknownext']) {
    await writeFile(join(dir.path, name), 'x');
  }
  app = await startStreamer(dir.path, { CACHE_CONTROL: 'public, max-age=60' });
});
afterAll(async () => {
  await app.close();
  await dir.remove();
});

const get = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
  request(`${app.url}${path}`, { method, headers });

describe('GET /videos/{name} with Range, on a 9-byte file', () => {
  it.each([
    ['bytes=0-4', 206, 0, 4],
    ['bytes=0-0', 206, 0, 0],
    ['bytes=2-5', 206, 2, 5],
    ['bytes=-3', 206, 6, 8],
    ['bytes=3-', 206, 3, 8],
    ['bytes=2-50', 206, 2, 8],
    ['bytes=0-1,1-3', 206, 0, 3],
    ['items=0-4', 200, 0, 8],
    ['asdf', 200, 0, 8],
  ])('%s → %i with bytes %i-%i of the file', async (range, status, start, end) => {
    const res = await get('/videos/nine.mp4', { range });
    expect(res.status).toBe(status);
    expect(res.body).toEqual(NINE.subarray(start, end + 1));
    expect(res.headers['content-length']).toBe(String(end - start + 1));
    expect(res.headers['accept-ranges']).toBe('bytes');
    if (status === 206) expect(res.headers['content-range']).toBe(`bytes ${start}-${end}/9`);
    else expect(res.headers['content-range']).toBeUndefined();
  });

  it.each(['bytes=9-50', 'bytes=-0', 'bytes=5-2'])(
    '%s → 416 with Content-Range: bytes */9',
    async (range) => {
      const res = await get('/videos/nine.mp4', { range });
      expect(res.status).toBe(416);
      expect(res.headers['content-range']).toBe('bytes */9');
      expect(JSON.parse(res.body.toString())).toMatchObject({
        code: 'NETLAB_ERR_RANGE_NOT_SATISFIABLE',
      });
    },
  );

  // nginx and Go answer the same; a player's first request is `bytes=0-`.
  it.each([undefined, 'bytes=0-', 'bytes=0-0', 'bytes=-5'])(
    'serves an empty file with Range %s as 200 with the empty body',
    async (range) => {
      const res = await get('/videos/empty.webm', range === undefined ? {} : { range });
      expect(res.status).toBe(200);
      expect(res.headers['content-length']).toBe('0');
      expect(res.headers['content-range']).toBeUndefined();
      expect(res.body.length).toBe(0);
    },
  );

  it('refuses bytes=5- on an empty file with 416 bytes */0, as nginx does', async () => {
    const ranged = await get('/videos/empty.webm', { range: 'bytes=5-' });
    expect(ranged.status).toBe(416);
    expect(ranged.headers['content-range']).toBe('bytes */0');
  });

  it('answers HEAD with a range with the 206 headers and no body', async () => {
    const res = await get('/videos/nine.mp4', { range: 'bytes=2-5' }, 'HEAD');
    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe('bytes 2-5/9');
    expect(res.headers['content-length']).toBe('4');
    expect(res.body.length).toBe(0);
  });

  it('answers Safari’s first probe, bytes=0-1, with a 206', async () => {
    const res = await get('/videos/nine.mp4', { range: 'bytes=0-1' });
    expect(res.status).toBe(206);
    expect(res.body.toString()).toBe('ab');
  });
});

describe('response headers', () => {
  it('carries type, length, validators, Cache-Control, nosniff and a request id', async () => {
    const res = await get('/videos/nine.mp4');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(NINE);
    expect(res.headers).toMatchObject({
      'content-type': 'video/mp4',
      'content-length': '9',
      'accept-ranges': 'bytes',
      'cache-control': 'public, max-age=60',
      'x-content-type-options': 'nosniff',
    });
    expect(res.headers.etag).toMatch(/^"[^"]+"$/);
    expect(new Date(res.headers['last-modified']!).getTime()).toBeGreaterThan(0);
    expect(res.headers['x-request-id']).toBeTruthy();
  });

  it.each([
    ['empty.webm', 'video/webm'],
    ['a.mkv', 'video/x-matroska'],
    ['a.mp3', 'audio/mpeg'],
    ['a.m4a', 'audio/mp4'],
    ['a.vtt', 'text/vtt; charset=utf-8'],
    ['a.unknownext', 'application/octet-stream'],
  ])('%s is served as %s', async (name, type) => {
    expect((await get(`/videos/${name}`, {}, 'HEAD')).headers['content-type']).toBe(type);
  });

  it('HEAD has the headers of GET and no body', async () => {
    const [head, body] = [await get('/videos/nine.mp4', {}, 'HEAD'), await get('/videos/nine.mp4')];
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    for (const h of ['content-type', 'content-length', 'etag', 'last-modified', 'accept-ranges']) {
      expect(head.headers[h]).toBe(body.headers[h]);
    }
  });
});

describe('other requests', () => {
  it('404s a missing file, and any other path, with a JSON code', async () => {
    for (const path of ['/videos/nope.mp4', '/nope', '/videos/']) {
      const res = await get(path);
      expect(res.status).toBe(404);
      expect(JSON.parse(res.body.toString())).toMatchObject({ code: 'NETLAB_ERR_NOT_FOUND' });
    }
  });

  it('405s other methods with Allow and closes the connection (their body is not read)', async () => {
    const res = await get('/videos/nine.mp4', {}, 'DELETE');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
    expect(res.headers.connection).toBe('close');
    expect(JSON.parse(res.body.toString())).toMatchObject({
      code: 'NETLAB_ERR_METHOD_NOT_ALLOWED',
    });
  });

  it('lists the media files as JSON on /api/videos, dotfiles left out', async () => {
    await writeFile(join(dir.path, '.secret.mp4'), 'no');
    const res = await get('/api/videos');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const list = JSON.parse(res.body.toString()) as Array<{ name: string }>;
    expect(list.map((f) => f.name)).toEqual(['a.m4a', 'a.mkv', 'a.mp3', 'empty.webm', 'nine.mp4']);
    expect(list.at(-1)).toMatchObject({
      name: 'nine.mp4',
      size: 9,
      type: 'video/mp4',
      duration: null,
      width: null,
      codecs: [],
      url: '/videos/nine.mp4',
    });
  });

  it('lists at most MAX_LISTED_FILES files', async () => {
    const small = await startStreamer(dir.path, { MAX_LISTED_FILES: '2' });
    try {
      const res = await request(`${small.url}/api/videos`);
      const list = JSON.parse(res.body.toString());
      expect(list.map((f: { name: string }) => f.name)).toEqual(['a.m4a', 'a.mkv']);
      expect(res.headers.link).toBe('</api/videos?offset=2&limit=2>; rel="next"');
      // A file past the listing is still served.
      expect((await request(`${small.url}/videos/nine.mp4`)).status).toBe(200);
    } finally {
      await small.close();
    }
  });
});
