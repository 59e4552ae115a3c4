import { dirname } from 'node:path';
import { http1HardeningSuite, wire } from '@netlab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { SAMPLE, type Started, startStreamer } from './helpers.js';

const start = (env: Record<string, string> = {}) => startStreamer(dirname(SAMPLE), env);

// Host, transfer codings, versions, header count, parser refusals, CONNECT,
// unread bodies, lingering close, keep-alive at shutdown.
http1HardeningSuite({
  start,
  get: { target: '/api/videos', route: '/api/videos', ends: ']\n' },
  // No route takes a body: a GET that says one follows.
  withBody: { line: 'GET /api/videos', route: '/api/videos' },
  refusedUpload: {
    // Like curl -T.
    head: 'PUT /videos/new.mp4 HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n',
    status: 405,
  },
  allow: 'GET, HEAD',
});

describe('Expect: 100-continue', () => {
  let app: Started | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it.each([
    ['a body to a file (no route reads one)', 'GET /videos/sample.mp4', 200],
    ['a body to an unknown path', 'POST /nope', 404],
    ['a body with a method not taken', 'PUT /api/videos', 405],
  ])('never invites %s: the answer comes instead of 100 Continue', async (_name, line, status) => {
    app = await start();
    const { text, end } = await wire(app.port, [
      `${line} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1000000000\r\n\r\n`,
    ]);
    expect(text).not.toContain('100 Continue');
    expect(text).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(text.toLowerCase()).toContain('connection: close');
    expect(end).toBe('eof');
  });
});
