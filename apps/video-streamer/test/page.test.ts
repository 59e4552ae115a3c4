import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, SAMPLE, type Started, startStreamer, tempDir } from './helpers.js';

const HOSTILE = '<img src=x onerror=alert(1)>.mp4';

let app: Started;
let dir: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  dir = await tempDir();
  await copyFile(SAMPLE, join(dir.path, 'clip.mp4'));
  await writeFile(join(dir.path, HOSTILE), 'x');
  for (const name of ['clip.vtt', 'clip.fr.vtt', 'clip.png', 'notes.txt', 'blob.bin', 'song.mp3']) {
    await writeFile(join(dir.path, name), 'x');
  }
  app = await startStreamer(dir.path);
});
afterAll(async () => {
  await app.close();
  await dir.remove();
});

describe('the player page', () => {
  it('lists every file, plays the first, and escapes names', async () => {
    const res = await request(`${app.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    const html = res.body.toString();
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;.mp4');
    expect(html).not.toContain('<img');
    // "<" sorts before "c": the hostile name is first, and so is the one in the player.
    expect(html).toContain(`src="/videos/${encodeURIComponent(HOSTILE)}"`);
    expect(html).toContain('href="/?v=clip.mp4"');
    expect(html).toContain('6.0 s');
  });

  it('plays the file named by ?v= with its poster and subtitles attached, not listed as videos', async () => {
    const html = (await request(`${app.url}/?v=clip.mp4`)).body.toString();
    expect(html).toContain(
      '<video id="player" controls preload="metadata" src="/videos/clip.mp4" poster="/videos/clip.png">\n' +
        '<track kind="subtitles" src="/videos/clip.fr.vtt" srclang="fr" label="fr" default>\n' +
        '<track kind="subtitles" src="/videos/clip.vtt" label="subtitles">\n</video>',
    );
    // Only audio and video are offered to play.
    const listed = [...html.matchAll(/<li[^>]*>(?:<a [^>]*>|<strong>)([^<]+)/g)].map((m) => m[1]);
    expect(listed).toEqual(['&lt;img src=x onerror=alert(1)&gt;.mp4 ', 'clip.mp4 ', 'song.mp3 ']);
  });

  it('loads its script from /player.js, and its CSP allows no other', async () => {
    const page = await request(`${app.url}/`);
    expect(page.body.toString()).toContain('<script src="/player.js" defer></script>');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toContain('unsafe-eval');
    expect(csp.match(/'unsafe-inline'/g)).toEqual(["'unsafe-inline'"]); // the style only
    const script = await request(`${app.url}/player.js`);
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.body.toString()).toContain('new PerformanceObserver(');
  });

  it('reads the duration of an MP4 for /api/videos', async () => {
    const list = JSON.parse((await request(`${app.url}/api/videos`)).body.toString());
    expect(list.find((f: { name: string }) => f.name === 'clip.mp4')).toMatchObject({
      duration: 6,
      size: 126244,
    });
  });
});
