import { dirname } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE, type Started, startStreamer } from './helpers.js';

// Debian's chromium (`apt-get install chromium`; .ci/run installs it): a
// browser is never downloaded. CHROMIUM_PATH points elsewhere if needed.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The slice of HTMLVideoElement the test drives (the tests compile without the DOM lib). */
interface Video {
  muted: boolean;
  currentTime: number;
  readonly duration: number;
  readonly error: { code: number } | null;
  play(): Promise<void>;
  addEventListener(type: string, listener: () => void, opts?: { once: boolean }): void;
}

let app: Started;
let browser: Browser;
beforeAll(async () => {
  app = await startStreamer(dirname(SAMPLE));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // As root (CI, containers) Chromium refuses to start with its sandbox on.
    args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required', '--mute-audio'],
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

describe('the player page in headless Chromium', () => {
  it('plays the sample, seeks to the middle, and fetches it with Range requests', async () => {
    const page = await browser.newPage();
    const ranges: string[] = [];
    page.on('request', (req) => {
      const range = req.headers().range;
      if (req.url().endsWith('/videos/sample.mp4') && range !== undefined) ranges.push(range);
    });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));

    await page.goto(`${app.url}/`);
    expect(await page.title()).toBe('netlab video-streamer');
    const video = page.locator('video#player');
    await expect.poll(() => video.getAttribute('src')).toBe('/videos/sample.mp4');

    // The page has no script of its own (its CSP allows none); the test drives the element.
    const duration = await video.evaluate(
      (v: Video) =>
        new Promise<number>((resolve, reject) => {
          v.muted = true;
          v.addEventListener('error', () => reject(new Error(`media error ${v.error?.code}`)));
          const played = () => (v.currentTime > 0.3 ? resolve(v.duration) : undefined);
          v.addEventListener('timeupdate', played);
          v.play().catch(reject);
        }),
    );
    expect(duration).toBeCloseTo(6, 0);

    const target = duration / 2;
    const after = await video.evaluate(
      (v: Video, to: number) =>
        new Promise<number>((resolve) => {
          v.addEventListener('seeked', () => resolve(v.currentTime), { once: true });
          v.currentTime = to;
        }),
      target,
    );
    expect(after).toBeGreaterThanOrEqual(target - 0.5);
    expect(errors).toEqual([]);

    // The browser asked for byte ranges, and the server answered them with 206.
    expect(ranges.length).toBeGreaterThan(0);
    expect(ranges[0]).toMatch(/^bytes=\d+-\d*$/);
    expect(
      app.logs.find((l) => l.path === '/videos/sample.mp4' && l.status === 206).length,
    ).toBeGreaterThan(0);
    await page.close();
  }, 60_000);
});
