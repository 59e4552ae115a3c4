import { dirname } from 'node:path';
import { http1HardeningSuite } from '@netlab/testkit';
import { SAMPLE, startStreamer } from './helpers.js';

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
  neverInvites: [
    ['a body to a file (no route reads one)', 'GET /videos/sample.mp4', 200],
    ['a body to an unknown path', 'POST /nope', 404],
    ['a body with a method not taken', 'PUT /api/videos', 405],
  ],
});
