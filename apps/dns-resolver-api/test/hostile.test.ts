import { connect, http1HardeningSuite, waitUntil, watch } from '@netlab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { type Started, startApi } from './helpers.js';

// No DNS server is asked: `/` and refusals only.
const start = (env: Record<string, string> = {}) =>
  startApi(env, { lookup: async () => [{ address: '127.0.0.1', family: 4 }] });

// Host, transfer codings, versions, header count, parser refusals, CONNECT,
// unread bodies, lingering close, keep-alive at shutdown.
http1HardeningSuite({
  start,
  get: { target: '/', route: '/', ends: '}\n' },
  withBody: { line: 'POST /resolve', route: 'POST /resolve' },
  refusedUpload: {
    head: 'POST /resolve HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n',
    status: 413,
    env: { MAX_BODY_BYTES: '1000' },
  },
  allow: 'GET, HEAD, POST',
  neverInvites: [
    ['a batch over MAX_BODY_BYTES', 'POST /resolve', 413, 'NETLAB_ERR_BODY_TOO_LARGE'],
    ['a body to / (which takes none)', 'POST /', 405, 'NETLAB_ERR_METHOD_NOT_ALLOWED'],
    ['a body to an unknown path', 'POST /nope', 404, 'NETLAB_ERR_NOT_FOUND'],
  ],
});

describe('Expect: 100-continue', () => {
  let app: Started | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('invites a batch it will read, and answers it', async () => {
    app = await start();
    const socket = await connect(app.port);
    const seen = watch(socket);
    socket.write(
      'POST /resolve HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n',
    );
    await waitUntil(() => seen.text !== '', { what: 'an interim answer' });
    expect(seen.text).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    socket.write('[]');
    await waitUntil(() => seen.text.endsWith('[]\n'), { what: 'the batch answer' });
    expect(seen.text).toMatch(/HTTP\/1\.1 200 /);
    socket.destroy();
  });
});
