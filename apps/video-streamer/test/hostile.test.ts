import { dirname } from 'node:path';
import { bodyOf, connect, metricValue, pump, waitUntil, watch, wire } from '@netlab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { SAMPLE, type Started, startStreamer } from './helpers.js';

// Bytes on the wire, as a hostile or broken client sends them: a client
// library would fix the request before it left. The checks themselves live
// in @netlab/http-handlers (requestProblem, installHttpGuards) and are
// tested there and in http-hello; these make sure this server is wired to them.

let app: Started | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const start = (env: Record<string, string> = {}) => startStreamer(dirname(SAMPLE), env);

const accessLine = (a: Started, code: string) =>
  a.logs.waitFor((l) => l.msg === 'request' && l.code === code);

const requestsCounted = (a: Started, route: string, status: number) =>
  metricValue(a.registry, 'netlab_http_requests_total', `route="${route}",status="${status}"`);

describe('refusals: JSON, Connection: close, a clean EOF, an access line, a count', () => {
  it.each([
    [
      'a duplicate Host (RFC 9112 §3.2)',
      'GET /api/videos HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
      400,
      'NETLAB_ERR_DUPLICATE_HOST',
    ],
    [
      'an HTTP/1.1 request without Host',
      'GET /api/videos HTTP/1.1\r\n\r\n',
      400,
      'NETLAB_ERR_MISSING_HOST',
    ],
    [
      'Expect: 200-ok',
      'GET /api/videos HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n',
      417,
      'NETLAB_ERR_EXPECTATION_FAILED',
    ],
    [
      'GET /api/videos HTTP/0.9',
      'GET /api/videos HTTP/0.9\r\nHost: a\r\n\r\n',
      505,
      'NETLAB_ERR_HTTP_VERSION',
    ],
    [
      'an HTTP/2.0 request line over HTTP/1',
      'GET /api/videos HTTP/2.0\r\nHost: a\r\n\r\n',
      505,
      'NETLAB_ERR_HTTP_VERSION',
    ],
    [
      'Transfer-Encoding: gzip',
      'GET /api/videos HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nabc',
      501,
      'NETLAB_ERR_UNSUPPORTED_TRANSFER_ENCODING',
    ],
    [
      'Transfer-Encoding: identity, chunked',
      'GET /api/videos HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n',
      501,
      'NETLAB_ERR_UNSUPPORTED_TRANSFER_ENCODING',
    ],
    [
      'Transfer-Encoding: " chunked "',
      'GET /api/videos HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: " chunked "\r\n\r\n0\r\n\r\n',
      501,
      'NETLAB_ERR_UNSUPPORTED_TRANSFER_ENCODING',
    ],
  ])('answers %s with its status and code', async (_name, request, status, code) => {
    app = await start();
    const { text, end } = await wire(app.port, [request]);
    expect(text).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(text.toLowerCase()).toContain('connection: close');
    expect(bodyOf(text)).toMatchObject({ code, status });
    expect(end).toBe('eof');
    expect(await accessLine(app, code)).toMatchObject({ status, code, path: '/api/videos' });
    expect(await requestsCounted(app, '/api/videos', status)).toBe(1);
  });

  it.each([
    [
      'two Transfer-Encoding lines',
      'GET /api/videos HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      501,
      'NETLAB_ERR_UNSUPPORTED_TRANSFER_ENCODING',
      { method: 'GET', path: '/api/videos' },
    ],
    [
      'an HTTP/0.9 simple request',
      'GET /videos/sample.mp4\r\n',
      400,
      'NETLAB_ERR_NO_HTTP_VERSION',
      { method: 'GET', path: '/videos/sample.mp4' },
    ],
    [
      'bad syntax',
      'GET /x HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n',
      400,
      'NETLAB_ERR_BAD_REQUEST',
      {},
    ],
  ])(
    'answers %s (refused by Node’s parser) as JSON, logged and counted',
    async (_name, request, status, code, line) => {
      app = await start();
      const { text, end } = await wire(app.port, [request]);
      expect(text).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      expect(text.toLowerCase()).toContain('connection: close');
      expect(bodyOf(text)).toMatchObject({ code, status });
      expect(end).toBe('eof');
      expect(await accessLine(app, code)).toMatchObject({
        ...line,
        status,
        reason: 'protocol-error',
        remoteAddress: '127.0.0.1',
      });
      expect(
        await metricValue(app.registry, 'netlab_http_client_errors_total', `code="${code}"`),
      ).toBe(1);
    },
  );

  it('answers CONNECT with 405 JSON instead of closing without a word', async () => {
    app = await start();
    const { text, end } = await wire(app.port, [
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
    ]);
    expect(text).toMatch(/^HTTP\/1\.1 405 /);
    expect(text).toContain('Allow: GET, HEAD\r\n');
    expect(bodyOf(text)).toMatchObject({ code: 'NETLAB_ERR_NOT_A_PROXY', status: 405 });
    expect(end).toBe('eof');
    expect(await accessLine(app, 'NETLAB_ERR_NOT_A_PROXY')).toMatchObject({
      method: 'CONNECT',
      path: 'example.com:443',
      status: 405,
    });
    expect(await requestsCounted(app, 'unmatched', 405)).toBe(1);
  });

  it('refuses more header lines than MAX_HEADERS_COUNT with 431, and takes exactly that many', async () => {
    app = await start({ MAX_HEADERS_COUNT: '50' });
    const head = (n: number) =>
      `HEAD /videos/sample.mp4 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n${Array.from({ length: n - 2 }, (_, i) => `X-H${i}: v\r\n`).join('')}\r\n`;
    expect((await wire(app.port, [head(50)])).text).toMatch(/^HTTP\/1\.1 200 /);
    const tooMany = await wire(app.port, [head(51)]);
    expect(tooMany.text).toMatch(/^HTTP\/1\.1 431 /);
    expect(tooMany.end).toBe('eof');
    expect(await accessLine(app, 'NETLAB_ERR_TOO_MANY_HEADERS')).toMatchObject({ status: 431 });
  });

  it('refuses 3,000 headers with 431 by default instead of dropping those past Node’s 2,000', async () => {
    app = await start({ MAX_HEADER_SIZE: '1048576' });
    const headers = Array.from({ length: 3000 }, (_, i) => `X-H${i}: v\r\n`).join('');
    const { text } = await wire(app.port, [
      `GET /api/videos HTTP/1.1\r\nHost: a\r\n${headers}\r\n`,
    ]);
    expect(text).toMatch(/^HTTP\/1\.1 431 /);
    expect(bodyOf(text)).toMatchObject({ code: 'NETLAB_ERR_TOO_MANY_HEADERS' });
  });
});

describe('Expect: 100-continue and unread bodies', () => {
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

  it('answers a GET that carries a body with Connection: close instead of reading it all', async () => {
    app = await start();
    const socket = await connect(app.port);
    const seen = watch(socket);
    socket.write('GET /api/videos HTTP/1.1\r\nHost: x\r\nContent-Length: 500000000\r\n\r\n');
    // At most 64 MiB of it: a server that reads the body to reuse the
    // connection never closes it, and the test fails on bytesWritten.
    await pump(socket, seen, 64 * 1024 * 1024);
    await seen.closed;
    expect(seen.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(seen.text.toLowerCase()).toContain('connection: close');
    expect(socket.bytesWritten).toBeLessThan(64 * 1024 * 1024);
  });

  it('closes gracefully (lingering close): an upload refused mid-send sees the answer and EOF, not a reset', async () => {
    app = await start();
    for (let i = 0; i < 3; i++) {
      const socket = await connect(app.port);
      const seen = watch(socket);
      // Like curl -T: keep sending the body until the answer comes.
      socket.write('PUT /videos/new.mp4 HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n');
      await pump(socket, seen, 150 * 64 * 1024, () => seen.text === '' && seen.end === 'open');
      await seen.closed;
      expect(seen.text).toMatch(/^HTTP\/1\.1 405 /);
      expect(seen.end).toBe('eof');
    }
  });
});

describe('draining with keep-alive connections', () => {
  it('answers a request already on its way on an idle keep-alive connection, with Connection: close', async () => {
    app = await start({ KEEP_ALIVE_TIMEOUT_MS: '30000' });
    const socket = await connect(app.port);
    const seen = watch(socket);
    socket.write('GET /api/videos HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitUntil(() => seen.text.endsWith(']\n'), { what: 'the first answer' });
    // The drain starts while the next request is on the wire: closing the
    // idle connection at once would lose it.
    const drained = app.server.close({ timeoutMs: 5000 });
    socket.write('GET /api/videos HTTP/1.1\r\nHost: a\r\n\r\n');
    await seen.closed;
    await drained;
    const answers = seen.text.split(/(?=HTTP\/1\.1 )/);
    expect(answers).toHaveLength(2);
    expect(answers[1]).toMatch(/^HTTP\/1\.1 200 /);
    expect(answers[1]!.toLowerCase()).toContain('connection: close');
    expect(seen.end).toBe('eof');
  });
});
