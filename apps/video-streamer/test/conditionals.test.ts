import { utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHttpDate } from '../src/http-date.js';
import { request, type Started, startStreamer, tempDir } from './helpers.js';

const MTIME = new Date('2024-03-01T10:20:30.250Z');
const LAST_MODIFIED = 'Fri, 01 Mar 2024 10:20:30 GMT';

let app: Started;
let dir: Awaited<ReturnType<typeof tempDir>>;
let etag: string;
beforeAll(async () => {
  dir = await tempDir();
  const file = join(dir.path, 'clip.mp4');
  await writeFile(file, 'abcdefghi');
  await utimes(file, MTIME, MTIME);
  app = await startStreamer(dir.path);
  etag = (await get()).headers.etag!;
});
afterAll(async () => {
  await app.close();
  await dir.remove();
});

function get(headers: Record<string, string> = {}, method = 'GET') {
  return request(`${app.url}/videos/clip.mp4`, { method, headers });
}

describe('validators', () => {
  it('sends a strong ETag and Last-Modified in whole seconds', async () => {
    const res = await get();
    expect(res.headers.etag).toMatch(/^"[0-9a-z-]+"$/);
    expect(res.headers['last-modified']).toBe(LAST_MODIFIED);
  });

  it('changes the ETag when the file changes, even within the same second and size', async () => {
    const other = join(dir.path, 'other.mp4');
    await writeFile(other, 'one');
    await utimes(other, MTIME, MTIME);
    const before = (await request(`${app.url}/videos/other.mp4`)).headers.etag;
    await writeFile(other, 'two');
    const later = new Date(MTIME.getTime() + 1);
    await utimes(other, later, later);
    const after = await request(`${app.url}/videos/other.mp4`);
    expect(after.headers.etag).not.toBe(before);
    expect(after.headers['last-modified']).toBe(LAST_MODIFIED);
  });
});

describe('If-None-Match / If-Modified-Since → 304', () => {
  it.each([
    ['if-none-match', () => etag],
    ['if-none-match', () => `"other", ${etag}`],
    ['if-none-match', () => `W/${etag}`], // weak comparison
    ['if-none-match', () => '*'],
    ['if-modified-since', () => LAST_MODIFIED],
    ['if-modified-since', () => 'Sat, 02 Mar 2024 00:00:00 GMT'],
  ])('%s: %s → 304 with validators and no body headers', async (name, value) => {
    for (const method of ['GET', 'HEAD']) {
      const res = await get({ [name]: value() }, method);
      expect(res.status).toBe(304);
      expect(res.body.length).toBe(0);
      expect(res.headers.etag).toBe(etag);
      expect(res.headers['cache-control']).toBeDefined();
      expect(res.headers['content-type']).toBeUndefined();
      expect(res.headers['content-length']).toBeUndefined();
      expect(res.headers['content-range']).toBeUndefined();
    }
  });

  it.each([
    [{ 'if-none-match': '"nope"' }],
    [{ 'if-modified-since': 'Fri, 01 Mar 2024 10:20:29 GMT' }],
    [{ 'if-modified-since': 'not a date' }],
    // If-None-Match wins: If-Modified-Since is not even looked at (RFC 9110 §13.1.4).
    [{ 'if-none-match': '"nope"', 'if-modified-since': LAST_MODIFIED }],
  ])('%o → 200 with the body', async (headers) => {
    const res = await get(headers);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('abcdefghi');
  });
});

describe('If-Match / If-Unmodified-Since → 412', () => {
  it.each([
    [{ 'if-match': '"nope"' }],
    [{ 'if-match': () => `W/${etag}` }], // If-Match compares strongly
    [{ 'if-unmodified-since': 'Fri, 01 Mar 2024 10:20:29 GMT' }],
  ])('%o → 412', async (spec) => {
    const headers = Object.fromEntries(
      Object.entries(spec).map(([k, v]) => [k, typeof v === 'function' ? v() : v]),
    );
    const res = await get(headers);
    expect(res.status).toBe(412);
    expect(JSON.parse(res.body.toString())).toMatchObject({
      code: 'NETLAB_ERR_PRECONDITION_FAILED',
    });
  });

  it('passes a matching If-Match or a later If-Unmodified-Since', async () => {
    expect((await get({ 'if-match': etag })).status).toBe(200);
    expect((await get({ 'if-match': '*' })).status).toBe(200);
    expect((await get({ 'if-unmodified-since': LAST_MODIFIED })).status).toBe(200);
  });

  it('If-Match decides alone: If-Unmodified-Since beside it is not evaluated (RFC 9110 §13.2.2)', async () => {
    const stale = 'Fri, 01 Mar 2024 10:20:29 GMT';
    expect((await get({ 'if-match': etag, 'if-unmodified-since': stale })).status).toBe(200);
  });
});

describe('If-Range (RFC 9110 §13.1.5)', () => {
  const range = { range: 'bytes=2-4' };

  it('honours the Range when the strong ETag matches: 206', async () => {
    const res = await get({ ...range, 'if-range': etag });
    expect(res.status).toBe(206);
    expect(res.body.toString()).toBe('cde');
  });

  it('ignores the Range when the ETag differs: 200 with the whole file', async () => {
    const res = await get({ ...range, 'if-range': '"changed"' });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('abcdefghi');
  });

  it('never matches a weak ETag, even with the same opaque value: 200 (send says 206)', async () => {
    const res = await get({ ...range, 'if-range': `W/${etag}` });
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('abcdefghi');
  });

  it('matches a date only when it equals Last-Modified exactly (send accepts any later date)', async () => {
    expect((await get({ ...range, 'if-range': LAST_MODIFIED })).status).toBe(206);
    expect((await get({ ...range, 'if-range': 'Sat, 02 Mar 2024 00:00:00 GMT' })).status).toBe(200);
    expect((await get({ ...range, 'if-range': 'Fri, 01 Mar 2024 10:20:29 GMT' })).status).toBe(200);
  });

  it('does not trust a date for a file changed within the last second (not a strong validator)', async () => {
    const fresh = join(dir.path, 'fresh.mp4');
    await writeFile(fresh, 'abcdefghi');
    const res1 = await request(`${app.url}/videos/fresh.mp4`);
    const res = await request(`${app.url}/videos/fresh.mp4`, {
      headers: { ...range, 'if-range': res1.headers['last-modified']! },
    });
    expect(res.status).toBe(200);
  });
});

describe('parseHttpDate', () => {
  it.each([
    ['Sun, 06 Nov 1994 08:49:37 GMT', Date.UTC(1994, 10, 6, 8, 49, 37)],
    ['Sunday, 06-Nov-94 08:49:37 GMT', Date.UTC(1994, 10, 6, 8, 49, 37)],
    ['Sun Nov  6 08:49:37 1994', Date.UTC(1994, 10, 6, 8, 49, 37)],
    ['Sun, 06 Nov 1994 08:49:37 PST', undefined],
    ['2024-03-01', undefined],
    ['Sun, 31 Feb 1994 08:49:37 GMT', undefined],
    ['Sun, 06 Nov 1994 25:49:37 GMT', undefined],
  ])('%s → %s', (text, ms) => {
    expect(parseHttpDate(text)).toBe(ms);
  });
});
