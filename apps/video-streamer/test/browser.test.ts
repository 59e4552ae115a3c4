import { copyFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE, type Started, startStreamer, tempDir } from './helpers.js';
import { paddedMp4 } from './padded-mp4.js';

// Debian's chromium (`apt-get install chromium`; .ci/run installs it): a
// browser is never downloaded. CHROMIUM_PATH points elsewhere if needed.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// More than Chrome reads ahead (its media cache holds at most 50 MB).
const PADDING = 128 * 1024 * 1024;

/** The slice of HTMLVideoElement the test drives (the tests compile without the DOM lib). */
interface Video {
  muted: boolean;
  currentTime: number;
  readonly readyState: number;
  readonly duration: number;
  readonly poster: string;
  readonly error: { code: number } | null;
  readonly textTracks: ArrayLike<{ mode: string; cues: ArrayLike<{ text: string }> | null }>;
  play(): Promise<void>;
  addEventListener(type: string, listener: () => void, opts?: { once: boolean }): void;
}

let app: Started;
let padded: Started;
let dir: Awaited<ReturnType<typeof tempDir>>;
let secondHalf: number;
let paddedSize: number;
let browser: Browser;
beforeAll(async () => {
  app = await startStreamer(dirname(SAMPLE));
  dir = await tempDir();
  secondHalf = await paddedMp4(SAMPLE, join(dir.path, 'padded.mp4'), PADDING);
  paddedSize = (await stat(join(dir.path, 'padded.mp4'))).size;
  await copyFile(SAMPLE, join(dir.path, 'clip.mp4'));
  padded = await startStreamer(dir.path);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // As root (CI, containers) Chromium refuses to start with its sandbox on.
    args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required', '--mute-audio'],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await padded?.close();
  await dir?.remove();
});

/** A page that fails the test on any script error or Content-Security-Policy violation. */
async function open(url: string): Promise<{ page: Page; problems: string[]; ranges: string[] }> {
  const page = await browser.newPage();
  const problems: string[] = [];
  const ranges: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.location().url.endsWith('/favicon.ico')) {
      problems.push(msg.text());
    }
  });
  page.on('request', (req) => {
    const range = req.headers().range;
    if (req.url().includes('/videos/') && range !== undefined) ranges.push(range);
  });
  await page.goto(url);
  return { page, problems, ranges };
}

/** Plays muted until currentTime passes `to`; resolves with the duration (run in the page). */
const playPast = (v: Video, to: number) =>
  new Promise<number>((resolve, reject) => {
    v.muted = true;
    v.addEventListener('error', () => reject(new Error(`media error ${v.error?.code}`)));
    v.addEventListener('timeupdate', () => (v.currentTime > to ? resolve(v.duration) : undefined));
    v.play().catch(reject);
  });

describe('the player page in headless Chromium', () => {
  it('plays the sample muted, with its poster and its subtitles attached', async () => {
    const { page, problems } = await open(`${app.url}/`);
    expect(await page.title()).toBe('netlab video-streamer');
    const video = page.locator('video#player');
    expect(await video.getAttribute('src')).toBe('/videos/sample.mp4');
    expect(await video.getAttribute('poster')).toBe('/videos/sample.jpg');
    const track = page.locator('video#player > track');
    expect(await track.getAttribute('src')).toBe('/videos/sample.vtt');
    expect(await track.getAttribute('kind')).toBe('subtitles');

    const duration = await video.evaluate(playPast, 0.3);
    expect(duration).toBeCloseTo(6, 0);
    // The default track is showing and its three cues were fetched and parsed.
    await expect
      .poll(() =>
        video.evaluate((v: Video) => {
          const t = v.textTracks[0];
          return `${v.textTracks.length} ${t?.mode} ${t?.cues?.length}`;
        }),
      )
      .toBe('1 showing 3');
    // The panel has a row for the load of the video, and a summary.
    await expect.poll(() => page.locator('#requests tr').count()).toBeGreaterThan(0);
    expect(await page.locator('#summary').textContent()).toMatch(/^\d+ requests?, /);
    expect(problems).toEqual([]);
    expect(app.logs.find((l) => l.path === '/videos/sample.jpg' && l.status === 200).length).toBe(
      1,
    );
    await page.close();
  }, 60_000);

  it('a seek past what was read issues a Range request, and the network panel shows it', async () => {
    const { page, problems, ranges } = await open(`${padded.url}/?v=padded.mp4`);
    const video = page.locator('video#player');
    expect(await video.getAttribute('src')).toBe('/videos/padded.mp4');
    expect(await video.getAttribute('poster')).toBeNull();
    await video.evaluate(
      (v: Video) =>
        new Promise<void>((resolve) => {
          if (v.readyState >= 1) resolve();
          else v.addEventListener('loadedmetadata', () => resolve(), { once: true });
        }),
    );
    const before = ranges.length;
    // Past the middle: its media sits PADDING bytes after the first half.
    const at = await video.evaluate(
      (v: Video) =>
        new Promise<number>((resolve) => {
          v.addEventListener('seeked', () => resolve(v.currentTime), { once: true });
          v.currentTime = 4.5;
        }),
    );
    expect(at).toBeCloseTo(4.5, 1);
    const asked = ranges.slice(before).map((r) => /^bytes=(\d+)-$/.exec(r)?.[1]);
    const far = asked.map(Number).filter((n) => n > PADDING);
    expect(far.length, `Range requests after the seek: ${ranges.slice(before)}`).toBe(1);
    const start = far[0]!;
    expect(start).toBeLessThanOrEqual(secondHalf);

    // Playback goes on from there.
    await video.evaluate(playPast, 4.8);

    // The panel's row for it: a 206 of exactly the bytes from `start` to the end.
    const row = page.locator(`#requests tr[data-status="206"][data-bytes="${paddedSize - start}"]`);
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.locator('td').nth(3).textContent()).toBe('206');
    expect(
      padded.logs.find((l) => l.path === '/videos/padded.mp4' && l.status === 206).at(-1),
    ).toMatchObject({ bytes: paddedSize - start });
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);
});
