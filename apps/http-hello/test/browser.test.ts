import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Started, startHello } from './helpers.js';

// Debian's chromium, as video-streamer's browser test (.ci/run installs it).
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let app: Started;
let browser: Browser;
beforeAll(async () => {
  app = await startHello();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

describe('headless Chromium', () => {
  it('talks to /ws: text and binary echo, then a close with its code', async () => {
    const page = await browser.newPage();
    await page.goto(`${app.url}/`);
    // A string, so this file compiles without the DOM lib.
    const result = await page.evaluate(`new Promise((resolve, reject) => {
      const ws = new WebSocket('ws://' + location.host + '/ws');
      ws.binaryType = 'arraybuffer';
      const got = [];
      ws.onopen = () => { ws.send('hello'); ws.send(new Uint8Array([1, 2, 3])); };
      ws.onmessage = (e) => {
        got.push(typeof e.data === 'string' ? e.data : Array.from(new Uint8Array(e.data)).join(','));
        if (got.length === 2) ws.close(4002, 'done');
      };
      ws.onclose = (e) => resolve({ got, code: e.code, clean: e.wasClean });
      ws.onerror = () => reject(new Error('websocket error'));
    })`);
    expect(result).toEqual({ got: ['hello', '1,2,3'], code: 4002, clean: true });
    const line = await app.logs.waitFor((l) => l.msg === 'websocket');
    expect(line).toMatchObject({ messagesIn: 2, messagesOut: 2, closeCode: 4002 });
    await page.close();
  });

  it('receives /sse events one by one with EventSource', async () => {
    const page = await browser.newPage();
    await page.goto(`${app.url}/`);
    const seqs = await page.evaluate(`new Promise((resolve) => {
      const source = new EventSource('/sse?count=3&interval=50ms');
      const seqs = [];
      source.addEventListener('tick', (e) => {
        seqs.push(JSON.parse(e.data).seq);
        // The stream ends after 3: stop EventSource from reconnecting.
        if (seqs.length === 3) { source.close(); resolve(seqs); }
      });
    })`);
    expect(seqs).toEqual([1, 2, 3]);
    await page.close();
  });
});
