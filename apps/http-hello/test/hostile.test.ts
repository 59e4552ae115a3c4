import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { bodyOf, expectRefusal, pump, useApps, waitUntil, watch, wire } from '@netlab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, MAIN, metricValue, type Started, startHello } from './helpers.js';

const startProcess = useApps(MAIN);

// Bytes on the wire, as a hostile or broken client sends them: no client
// library here, since one would fix the request before it left.

let app: Started | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const accessLine = (a: Started, code: string) =>
  a.logs.waitFor((l) => l.msg === 'request' && l.code === code);

describe('refusals: JSON, an access line, a count', () => {
  it.each([
    [
      'a duplicate Host (RFC 9112 §3.2)',
      'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
      400,
      'NETLAB_ERR_DUPLICATE_HOST',
      '/',
    ],
    ...['a b', '<x>', 'a/b', '[::1'].map(
      (host) =>
        [
          `Host: ${host} (RFC 9112 §3.2, RFC 3986 §3.2.2)`,
          `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
          400,
          'NETLAB_ERR_BAD_HOST',
          '/',
        ] as [string, string, number, string, string],
    ),
    [
      'an HTTP/1.1 request without Host',
      'GET /whoami HTTP/1.1\r\n\r\n',
      400,
      'NETLAB_ERR_MISSING_HOST',
      '/whoami',
    ],
    [
      'Expect: 200-ok',
      'GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n',
      417,
      'NETLAB_ERR_EXPECTATION_FAILED',
      '/',
    ],
    ['GET / HTTP/0.9', 'GET / HTTP/0.9\r\n\r\n', 505, 'NETLAB_ERR_HTTP_VERSION', '/'],
    [
      'an HTTP/2.0 request line over HTTP/1',
      'GET / HTTP/2.0\r\nHost: a\r\n\r\n',
      505,
      'NETLAB_ERR_HTTP_VERSION',
      '/',
    ],
    [
      'Transfer-Encoding: gzip',
      'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nabc',
      501,
      'NETLAB_ERR_UNSUPPORTED_TRANSFER_ENCODING',
      '/echo',
    ],
    [
      'Transfer-Encoding: identity, chunked',
      'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
      501,
      'NETLAB_ERR_UNSUPPORTED_TRANSFER_ENCODING',
      '/echo',
    ],
    [
      'Transfer-Encoding: " chunked "',
      'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: " chunked "\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
      501,
      'NETLAB_ERR_UNSUPPORTED_TRANSFER_ENCODING',
      '/echo',
    ],
  ])(
    'answers %s with its status and code, closes, logs and counts it',
    async (_name, request, status, code, route) => {
      app = await startHello();
      await expectRefusal(app.port, request, status, { code, status });
      expect(await accessLine(app, code)).toMatchObject({ status, code });
      expect(
        await metricValue(
          app.registry,
          'netlab_http_requests_total',
          `route="${route}",status="${status}"`,
        ),
      ).toBe(1);
    },
  );

  it('answers two Transfer-Encoding lines (refused by Node’s parser itself) with 501 JSON, logged and counted', async () => {
    app = await startHello();
    const { text } = await wire(app.port, [
      'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    ]);
    expect(text).toMatch(/^HTTP\/1\.1 501 /);
    expect(bodyOf(text)).toMatchObject({ code: 'NETLAB_ERR_UNSUPPORTED_TRANSFER_ENCODING' });
    expect(await accessLine(app, 'NETLAB_ERR_UNSUPPORTED_TRANSFER_ENCODING')).toMatchObject({
      method: 'POST',
      path: '/echo',
      status: 501,
      reason: 'protocol-error',
      err: 'HPE_INVALID_TRANSFER_ENCODING',
    });
    expect(
      await metricValue(
        app.registry,
        'netlab_http_client_errors_total',
        'code="NETLAB_ERR_UNSUPPORTED_TRANSFER_ENCODING"',
      ),
    ).toBe(1);
  });

  it.each(['[::1]:8080', 'example.com:80', '127.0.0.1', 'my_host.local'])(
    'serves a valid Host: %s',
    async (host) => {
      app = await startHello();
      const { text } = await wire(app.port, [
        `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      ]);
      expect(text).toMatch(/^HTTP\/1\.1 200 /);
    },
  );

  it('serves HTTP/1.0 without a Host, and a Transfer-Encoding of plain chunked', async () => {
    app = await startHello();
    expect((await wire(app.port, ['GET / HTTP/1.0\r\n\r\n'])).text).toMatch(/^HTTP\/1\.1 200 /);
    const chunked = await wire(app.port, [
      'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
    ]);
    expect(chunked.text).toMatch(/^HTTP\/1\.1 200 [\s\S]*\r\n3\r\nabc\r\n0\r\n\r\n$/);
  });

  it('answers CONNECT with 405 JSON instead of closing without a word', async () => {
    app = await startHello();
    const { text, end } = await wire(app.port, [
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
    ]);
    expect(text).toMatch(/^HTTP\/1\.1 405 /);
    expect(text).toContain('Allow: GET, HEAD, POST, PUT');
    expect(bodyOf(text)).toMatchObject({ code: 'NETLAB_ERR_NOT_A_PROXY', status: 405 });
    expect(end).toBe('eof');
    expect(await accessLine(app, 'NETLAB_ERR_NOT_A_PROXY')).toMatchObject({
      method: 'CONNECT',
      path: 'example.com:443',
      status: 405,
    });
    expect(
      await metricValue(
        app.registry,
        'netlab_http_requests_total',
        'route="unmatched",status="405"',
      ),
    ).toBe(1);
  });

  it('logs a request Node’s parser refuses as an access line with status, code, reason and peer', async () => {
    app = await startHello();
    const { text } = await wire(app.port, ['GET /x HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n']);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(await accessLine(app, 'NETLAB_ERR_BAD_REQUEST')).toMatchObject({
      method: 'GET',
      path: '/x',
      status: 400,
      reason: 'protocol-error',
      remoteAddress: '127.0.0.1',
    });
  });

  describe('an HTTP/0.9 simple request (a request line without a version)', () => {
    // A header deadline far past the wire's 5 s: an answer can only come from the check.
    const patient = { HEADERS_TIMEOUT_MS: '60000', REQUEST_TIMEOUT_MS: '60000' };

    it.each([
      ['GET /\\r\\n', ['GET /\r\n'], 'GET', '/'],
      ['a bare LF and a query', ['GET /whoami?x=1\n'], 'GET', '/whoami?x=1'],
      ['after empty lines (RFC 9112 §2.2)', ['\r\n\r\nPOST /echo\r\n'], 'POST', '/echo'],
      ['after an empty line in an earlier read', ['\r\n', 'GET /late\r\n'], 'GET', '/late'],
    ])('answers %s with 400 at once, logs and counts it', async (_name, parts, method, path) => {
      app = await startHello(patient);
      const socket = await connect(app.port);
      const seen = watch(socket);
      for (const part of parts) {
        socket.write(part);
        await new Promise((r) => setTimeout(r, 50));
      }
      const timer = setTimeout(() => socket.destroy(), 5000);
      await seen.closed;
      clearTimeout(timer);
      expect(seen.text).toMatch(/^HTTP\/1\.1 400 /);
      expect(bodyOf(seen.text)).toEqual({
        error: 'the request line has no HTTP version (HTTP/0.9 is not supported)',
        code: 'NETLAB_ERR_NO_HTTP_VERSION',
        status: 400,
      });
      expect(seen.end).toBe('eof');
      expect(await accessLine(app, 'NETLAB_ERR_NO_HTTP_VERSION')).toMatchObject({
        method,
        path,
        status: 400,
        reason: 'protocol-error',
        remoteAddress: '127.0.0.1',
      });
      expect(
        await metricValue(
          app.registry,
          'netlab_http_client_errors_total',
          'code="NETLAB_ERR_NO_HTTP_VERSION"',
        ),
      ).toBe(1);
    });

    it('still serves request lines and headers that arrive in pieces', async () => {
      app = await startHello(patient);
      for (const parts of [
        ['GET / HTTP/1.1\r\n', 'Host: a\r\nConnection: close\r\n\r\n'],
        ['GET / HT', 'TP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'],
        ['GET /', ' HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'],
      ]) {
        const socket = await connect(app.port);
        const seen = watch(socket);
        for (const part of parts) {
          socket.write(part);
          await new Promise((r) => setTimeout(r, 100));
        }
        await seen.closed;
        expect(seen.text, parts.join('|')).toMatch(/^HTTP\/1\.1 200 [\s\S]*Hello HTTP\n$/);
      }
    });

    it('answers a simple request followed by headers as a request of version 0.9: 505', async () => {
      app = await startHello(patient);
      const { text } = await wire(app.port, ['GET /\r\nHost: a\r\n\r\n']);
      expect(text).toMatch(/^HTTP\/1\.1 505 /);
      expect(bodyOf(text)).toMatchObject({ code: 'NETLAB_ERR_HTTP_VERSION' });
    });

    it('leaves one after a first request to the header deadline: 408', async () => {
      // Only a connection's first read is looked at (see watchForSimpleRequest).
      app = await startHello({ HEADERS_TIMEOUT_MS: '300', REQUEST_TIMEOUT_MS: '300' });
      const { text } = await wire(app.port, ['GET / HTTP/1.1\r\nHost: a\r\n\r\n', 'GET /\r\n']);
      expect(text).toMatch(/^HTTP\/1\.1 200 [\s\S]*HTTP\/1\.1 408 /);
      expect(text).toContain('NETLAB_ERR_REQUEST_TIMEOUT');
    });
  });

  it('logs an IPv4 peer as 127.0.0.1 on a dual-stack listener, not ::ffff:127.0.0.1', async (ctx) => {
    try {
      app = await startHello({ HOST: '::' });
    } catch {
      ctx.skip(); // no IPv6 on this machine: nothing is mapped
      return;
    }
    await wire(app.port, ['NOT HTTP\r\n\r\n']);
    expect(await accessLine(app, 'NETLAB_ERR_BAD_REQUEST')).toMatchObject({
      remoteAddress: '127.0.0.1',
    });
  });

  it('refuses more header lines than MAX_HEADERS_COUNT with 431, and takes exactly that many', async () => {
    app = await startHello({ MAX_HEADERS_COUNT: '50' });
    const head = (n: number) =>
      `GET /whoami HTTP/1.1\r\nHost: a\r\nConnection: close\r\n${Array.from({ length: n - 2 }, (_, i) => `X-H${i}: v\r\n`).join('')}\r\n`;
    const ok = await wire(app.port, [head(50)]);
    expect(ok.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(bodyOf(ok.text).rawHeaders).toHaveLength(50);
    const tooMany = await wire(app.port, [head(51)]);
    expect(tooMany.text).toMatch(/^HTTP\/1\.1 431 /);
    expect(bodyOf(tooMany.text)).toMatchObject({ code: 'NETLAB_ERR_TOO_MANY_HEADERS' });
  });

  it('refuses 3,000 headers with 431 by default instead of dropping most of them', async () => {
    app = await startHello({ MAX_HEADER_SIZE: '1048576' });
    const headers = Array.from({ length: 3000 }, (_, i) => `X-H${i}: v\r\n`).join('');
    const { text } = await wire(app.port, [`GET /whoami HTTP/1.1\r\nHost: a\r\n${headers}\r\n`]);
    expect(text).toMatch(/^HTTP\/1\.1 431 /);
  });
});

describe('malformed body framing on /echo', () => {
  it('answers a bad chunk size with 400, logged as the server’s refusal, not 499', async () => {
    app = await startHello();
    const { text, end } = await wire(app.port, [
      'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n',
    ]);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(bodyOf(text)).toMatchObject({ code: 'NETLAB_ERR_BAD_REQUEST', status: 400 });
    expect(end).toBe('eof');
    expect(await accessLine(app, 'NETLAB_ERR_BAD_REQUEST')).toMatchObject({
      method: 'POST',
      path: '/echo',
      status: 400,
      reason: 'protocol-error',
    });
    expect(app.logs.find((l) => l.status === 499)).toEqual([]);
  });

  it('cuts an echo whose framing breaks after its 200 went out, and logs why', async () => {
    app = await startHello();
    const socket = await connect(app.port);
    socket.on('error', () => {});
    socket.write(
      'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n',
    );
    await new Promise((resolve) => socket.once('data', resolve));
    socket.write('zz\r\n');
    await new Promise((resolve) => socket.once('close', resolve));
    expect(await accessLine(app, 'NETLAB_ERR_BAD_REQUEST')).toMatchObject({
      path: '/echo',
      status: 400,
      reason: 'protocol-error',
    });
  });
});

describe('Expect: 100-continue and unread bodies', () => {
  const expect100 = (target: string, length: number) =>
    `POST ${target} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: ${length}\r\n\r\n`;

  it.each([
    [
      'an absolute-form echo over MAX_BODY_BYTES',
      'http://x/echo',
      413,
      'NETLAB_ERR_BODY_TOO_LARGE',
    ],
    ['a body to / (which takes none)', '/', 405, 'NETLAB_ERR_METHOD_NOT_ALLOWED'],
    ['a body to an unknown path', '/nope', 404, 'NETLAB_ERR_NOT_FOUND'],
  ])(
    'never invites %s: the refusal comes instead of 100 Continue',
    async (_name, target, status, code) => {
      app = await startHello();
      const { text } = await wire(app.port, [expect100(target, 1_000_000_000)]);
      expect(text).not.toContain('100 Continue');
      expect(text).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      expect(text.toLowerCase()).toContain('connection: close');
      expect(bodyOf(text)).toMatchObject({ code });
    },
  );

  it('invites an echo it will read, and echoes it', async () => {
    app = await startHello();
    const socket = await connect(app.port);
    socket.write(expect100('/echo', 3));
    const first = await new Promise<string>((resolve) =>
      socket.once('data', (d: Buffer) => resolve(d.toString())),
    );
    expect(first).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    const rest = new Promise<string>((resolve) =>
      socket.once('data', (d: Buffer) => resolve(d.toString())),
    );
    socket.write('abc');
    expect(await rest).toMatch(/^HTTP\/1\.1 200 [\s\S]*\r\n\r\nabc$/);
    socket.destroy();
  });

  it('refuses a 500 MB body to POST / with Connection: close instead of reading it all', async () => {
    app = await startHello();
    const socket = await connect(app.port);
    const seen = watch(socket);
    socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 500000000\r\n\r\n');
    // At most 64 MiB of it: a server that drains the body keeps reading and
    // never closes, and the test times out.
    await pump(socket, seen, 64 * 1024 * 1024, () => !socket.writableEnded);
    await seen.closed;
    expect(seen.text).toMatch(/^HTTP\/1\.1 405 /);
    expect(seen.text.toLowerCase()).toContain('connection: close');
    expect(socket.bytesWritten).toBeLessThan(64 * 1024 * 1024);
  });

  it('closes gracefully (lingering close): an upload refused mid-send sees the answer and EOF, not a reset', async () => {
    app = await startHello({ MAX_BODY_BYTES: '1000' });
    for (let i = 0; i < 3; i++) {
      const socket = await connect(app.port);
      const seen = watch(socket);
      // Like curl without Expect: keep sending the body until the answer comes.
      socket.write('PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n');
      await pump(socket, seen, 150 * 64 * 1024, () => seen.text === '' && seen.end === 'open');
      await seen.closed;
      expect(seen.text).toMatch(/^HTTP\/1\.1 413 /);
      expect(seen.end).toBe('eof');
    }
  });
});

describe('after Connection: close', () => {
  it('does not process a request pipelined behind an answer that closed the connection (RFC 9112 §9.6)', async () => {
    app = await startHello();
    const { text, end } = await wire(app.port, [
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET /whoami HTTP/1.1\r\nHost: a\r\n\r\n',
    ]);
    expect(text).toMatch(/^HTTP\/1\.1 405 /);
    expect(text.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(end).toBe('eof');
    await accessLine(app, 'NETLAB_ERR_METHOD_NOT_ALLOWED');
    app.server.handler.flushLog();
    expect(app.logs.find((l) => l.path === '/whoami')).toEqual([]);
    expect(app.server.handler.stats.inFlight).toBe(0);
  });
});

describe('lingering close is bounded', () => {
  /** A client that keeps its side open after our EOF (allowHalfOpen), and sees a refusal. */
  async function refusedHalfOpen(port: number) {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    await once(socket, 'connect');
    const seen = watch(socket);
    socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 500000000\r\n\r\n');
    return { socket, seen };
  }

  it('cuts a client still sending after LINGER_MAX_BYTES', async () => {
    app = await startHello({ LINGER_MAX_BYTES: '65536', LINGER_TIMEOUT_MS: '60000' });
    const { socket, seen } = await refusedHalfOpen(app.port);
    // At most 64 MiB: without the bound the server reads on for a minute.
    await pump(socket, seen, 64 * 1024 * 1024);
    await seen.closed;
    expect(socket.bytesWritten).toBeLessThan(64 * 1024 * 1024);
  });

  it('closes a client that neither sends nor closes after LINGER_TIMEOUT_MS', async () => {
    app = await startHello({ LINGER_TIMEOUT_MS: '100' });
    const { socket } = await refusedHalfOpen(app.port);
    // The client keeps its side open: the server's own close is what ends it.
    await waitUntil(() => app!.server.connections === 0, { what: 'the server to close' });
    socket.destroy();
  });
});

describe('server-side cuts are logged with who cut and why', () => {
  it('an echo cut by the idle sweep is logged as idle (408), not as a client that left (499)', async () => {
    app = await startHello({ IDLE_TIMEOUT_MS: '200' });
    const socket = await connect(app.port);
    socket.on('error', () => {});
    // Head and the first chunk, then silence: the echo is under way.
    socket.write(
      'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n',
    );
    socket.resume();
    await new Promise((resolve) => socket.once('close', resolve));
    expect(await accessLine(app, 'NETLAB_ERR_IDLE_TIMEOUT')).toMatchObject({
      path: '/echo',
      status: 408,
      reason: 'idle',
    });
    expect(app.logs.find((l) => l.status === 499)).toEqual([]);
  });

  it('a request cut at the shutdown deadline is logged as shutdown (503), not 499', async () => {
    app = await startHello();
    const socket = await connect(app.port);
    socket.on('error', () => {});
    socket.write('GET /delay/5000 HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitUntil(() => app!.server.handler.stats.inFlight === 1);
    await app.server.close({ timeoutMs: 50 });
    expect(await accessLine(app, 'NETLAB_ERR_SHUTTING_DOWN')).toMatchObject({
      path: '/delay/5000',
      status: 503,
      reason: 'shutdown',
    });
    expect(app.logs.find((l) => l.status === 499)).toEqual([]);
  });

  it('a request timed out mid-body is answered 408 and logged as a timeout, not 499', async () => {
    app = await startHello({ REQUEST_TIMEOUT_MS: '500', HEADERS_TIMEOUT_MS: '500' });
    const { text } = await wire(app.port, [
      'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n',
    ]);
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(await accessLine(app, 'NETLAB_ERR_REQUEST_TIMEOUT')).toMatchObject({
      path: '/echo',
      status: 408,
      reason: 'timeout',
    });
  });
});

describe('/whoami', () => {
  it('shows the path of an absolute-form request, and the target as sent in url', async () => {
    app = await startHello();
    const { text } = await wire(app.port, [
      'GET http://example.test/whoami?a=1 HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n',
    ]);
    expect(bodyOf(text)).toMatchObject({
      url: 'http://example.test/whoami?a=1',
      path: '/whoami',
      query: { a: '1' },
    });
  });
});

describe('draining under keep-alive load', () => {
  it('does not process a request sent after the drain closed its idle connection', async () => {
    app = await startHello();
    const socket = net.connect({ port: app.port, host: '127.0.0.1', allowHalfOpen: true });
    await once(socket, 'connect');
    const seen = watch(socket);
    socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitUntil(() => seen.text.endsWith('Hello HTTP\n'));
    const drained = app.server.close({ timeoutMs: 5000 });
    // Our EOF: the server closed the idle connection (it keeps reading a while).
    await waitUntil(() => seen.end === 'eof', { what: 'the server to close the connection' });
    socket.write('GET /whoami HTTP/1.1\r\nHost: a\r\n\r\n');
    await drained;
    expect(seen.text.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(app.logs.find((l) => l.path === '/whoami')).toEqual([]);
    socket.destroy();
  });

  /**
   * Eight clients on one keep-alive connection each, requests back to back
   * (GET /, or a 1 MiB echo), each until the server says Connection: close
   * (a client must not reuse the connection then).
   */
  function keepAliveLoad(port: number) {
    const body = Buffer.alloc(1024 * 1024, 'e');
    const load = { answered: 0, failures: [] as string[], done: Promise.resolve() };
    const client = async (i: number) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const echo = i % 2 === 1;
      try {
        for (let n = 0; n < 2000; n++) {
          const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
            const req = http.request(
              {
                port,
                host: '127.0.0.1',
                agent,
                path: echo ? '/echo' : '/',
                method: echo ? 'POST' : 'GET',
              },
              resolve,
            );
            req.on('error', reject);
            req.end(echo ? body : undefined);
          });
          let got = 0;
          res.on('data', (d: Buffer) => {
            got += d.length;
          });
          await new Promise((resolve, reject) => res.on('end', resolve).on('error', reject));
          if (res.statusCode !== 200 || (echo && got !== body.length)) {
            load.failures.push(`status ${res.statusCode}, ${got} bytes`);
          }
          load.answered++;
          if (res.headers.connection === 'close') return;
        }
      } catch (err) {
        load.failures.push((err as NodeJS.ErrnoException).code ?? String(err));
      } finally {
        agent.destroy();
      }
    };
    load.done = Promise.all(Array.from({ length: 8 }, (_, i) => client(i))).then(() => {});
    return load;
  }

  it('no client request fails: in-flight answers say Connection: close, idle connections close cleanly', async () => {
    app = await startHello({ KEEP_ALIVE_TIMEOUT_MS: '30000' });
    const load = keepAliveLoad(app.port);
    await waitUntil(() => load.answered >= 40, { what: 'the load to run' });
    await app.server.close({ timeoutMs: 10_000 });
    await load.done;
    expect(load.failures).toEqual([]);
  });

  it('no client request fails at SIGTERM (the real process), and it exits 0', async () => {
    const proc = await startProcess({ KEEP_ALIVE_TIMEOUT_MS: '30000' });
    const load = keepAliveLoad(proc.port);
    await waitUntil(() => load.answered >= 40, { what: 'the load to run' });
    proc.child.kill('SIGTERM');
    await load.done;
    expect(load.failures).toEqual([]);
    expect((await proc.exited).code).toBe(0);
  });
});
