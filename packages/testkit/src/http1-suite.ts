import { afterEach, describe, expect, it } from 'vitest';
import type { LogCapture } from './log-capture.js';
import { connect, metricValue } from './sockets.js';
import { waitUntil } from './wait.js';
import { bodyOf, pump, watch, wire } from './wire.js';

/** An HTTP/1 app started in-process on port 0 (each app's test helpers make one). */
export interface Http1App {
  port: number;
  logs: LogCapture;
  registry: { metrics(): Promise<string> };
  server: { close(opts: { timeoutMs: number }): Promise<void> };
  close(): Promise<void>;
}

export interface Http1SuiteOptions {
  /** Starts the app with these variables on top of the test defaults. */
  start(env?: Record<string, string>): Promise<Http1App>;
  /** A GET answered 200: its target, its route label in netlab_http_requests_total, and how its body ends. */
  get: { target: string; route: string; ends: string };
  /** Where a request with a Transfer-Encoding goes (`POST /resolve`), and its route label. */
  withBody: { line: string; route: string };
  /** An upload the app refuses before reading all of it: its request head, the status, variables to start with. */
  refusedUpload: { head: string; status: number; env?: Record<string, string> };
  /** The `Allow` of the 405 a CONNECT gets. */
  allow: string;
  /**
   * Requests (method and target) with `Expect: 100-continue` and a 1 GB
   * body that must be answered without being invited: what, the request
   * line's start, the status, and the JSON error's code when there is one.
   */
  neverInvites: Array<[what: string, line: string, status: number, code?: string]>;
}

/**
 * Sends `request` on a fresh connection and checks the refusal a netlab
 * HTTP/1 server gives: its status line, `Connection: close`, a clean EOF,
 * and the JSON body matching `body` when one is given. Returns what came back.
 */
export async function expectRefusal(
  port: number,
  request: string,
  status: number,
  body?: Record<string, unknown>,
): Promise<string> {
  const { text, end } = await wire(port, [request]);
  expect(text).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
  expect(text.toLowerCase()).toContain('connection: close');
  if (body !== undefined) expect(bodyOf(text)).toMatchObject(body);
  expect(end).toBe('eof');
  return text;
}

/**
 * The raw-socket tests of the HTTP/1 hardening a server gets from
 * @netlab/http-handlers (installHttpGuards and requestProblem, the ones
 * http-hello's hostile.test.ts runs on that handler): for a server with its
 * own request listener (dns-resolver-api, video-streamer), that it is wired
 * to both. Bytes on the wire: a client library would fix the request first.
 */
export function http1HardeningSuite(opts: Http1SuiteOptions): void {
  let app: Http1App | undefined;
  const start = async (env?: Record<string, string>) => {
    app = await opts.start(env);
    return app;
  };
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  const accessLine = (a: Http1App, code: string) =>
    a.logs.waitFor((l) => l.msg === 'request' && l.code === code);
  const requestsCounted = (a: Http1App, route: string, status: number) =>
    metricValue(a.registry, 'netlab_http_requests_total', `route="${route}",status="${status}"`);
  const { target, route } = opts.get;
  const te = (codings: string, body: string) =>
    `${opts.withBody.line} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ${codings}\r\n\r\n${body}`;

  describe('HTTP/1 refusals: JSON, Connection: close, a clean EOF, an access line, a count', () => {
    it.each([
      [
        'a duplicate Host (RFC 9112 §3.2)',
        `GET ${target} HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n`,
        400,
        'NETLAB_ERR_DUPLICATE_HOST',
        route,
      ],
      ...['a b', '<x>', 'a/b', '[::1'].map(
        (host) =>
          [
            `Host: ${host} (not a host[:port], RFC 3986 §3.2.2)`,
            `GET ${target} HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
            400,
            'NETLAB_ERR_BAD_HOST',
            route,
          ] as [string, string, number, string, string],
      ),
      [
        'an HTTP/1.1 request without Host',
        `GET ${target} HTTP/1.1\r\n\r\n`,
        400,
        'NETLAB_ERR_MISSING_HOST',
        route,
      ],
      [
        'Expect: 200-ok',
        `GET ${target} HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n`,
        417,
        'NETLAB_ERR_EXPECTATION_FAILED',
        route,
      ],
      [
        'an HTTP/0.9 version',
        `GET ${target} HTTP/0.9\r\nHost: a\r\n\r\n`,
        505,
        'NETLAB_ERR_HTTP_VERSION',
        route,
      ],
      [
        'an HTTP/2.0 request line over HTTP/1',
        `GET ${target} HTTP/2.0\r\nHost: a\r\n\r\n`,
        505,
        'NETLAB_ERR_HTTP_VERSION',
        route,
      ],
      [
        'Transfer-Encoding: gzip',
        te('gzip', 'abc'),
        501,
        'NETLAB_ERR_UNSUPPORTED_TRANSFER_ENCODING',
        opts.withBody.route,
      ],
      [
        'Transfer-Encoding: identity, chunked',
        te('identity, chunked', '2\r\n[]\r\n0\r\n\r\n'),
        501,
        'NETLAB_ERR_UNSUPPORTED_TRANSFER_ENCODING',
        opts.withBody.route,
      ],
      [
        'Transfer-Encoding: " chunked "',
        te('" chunked "', '2\r\n[]\r\n0\r\n\r\n'),
        501,
        'NETLAB_ERR_UNSUPPORTED_TRANSFER_ENCODING',
        opts.withBody.route,
      ],
    ])('answers %s with its status and code', async (_name, request, status, code, counted) => {
      const a = await start();
      await expectRefusal(a.port, request, status, { code, status });
      expect(await accessLine(a, code)).toMatchObject({ status, code });
      expect(await requestsCounted(a, counted, status)).toBe(1);
    });

    it.each([
      [
        'two Transfer-Encoding lines',
        te('chunked\r\nTransfer-Encoding: chunked', '0\r\n\r\n'),
        501,
        'NETLAB_ERR_UNSUPPORTED_TRANSFER_ENCODING',
      ],
      ['an HTTP/0.9 simple request', `GET ${target}\r\n`, 400, 'NETLAB_ERR_NO_HTTP_VERSION'],
      [
        'bad syntax',
        `GET ${target} HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n`,
        400,
        'NETLAB_ERR_BAD_REQUEST',
      ],
    ])(
      'answers %s (refused by Node’s parser) as JSON, logged and counted',
      async (_name, request, status, code) => {
        const a = await start();
        await expectRefusal(a.port, request, status, { code, status });
        expect(await accessLine(a, code)).toMatchObject({
          path: request.split(/[ \r]/)[1],
          status,
          reason: 'protocol-error',
          remoteAddress: '127.0.0.1',
        });
        expect(
          await metricValue(a.registry, 'netlab_http_client_errors_total', `code="${code}"`),
        ).toBe(1);
      },
    );

    it('answers CONNECT with 405 JSON instead of closing without a word', async () => {
      const a = await start();
      const { text, end } = await wire(a.port, [
        'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
      ]);
      expect(text).toMatch(/^HTTP\/1\.1 405 /);
      expect(text).toContain(`Allow: ${opts.allow}\r\n`);
      expect(bodyOf(text)).toMatchObject({ code: 'NETLAB_ERR_NOT_A_PROXY', status: 405 });
      expect(end).toBe('eof');
      expect(await accessLine(a, 'NETLAB_ERR_NOT_A_PROXY')).toMatchObject({
        method: 'CONNECT',
        path: 'example.com:443',
        status: 405,
      });
      expect(await requestsCounted(a, 'unmatched', 405)).toBe(1);
    });

    it('refuses more header lines than MAX_HEADERS_COUNT with 431, and takes exactly that many', async () => {
      const a = await start({ MAX_HEADERS_COUNT: '50' });
      const head = (n: number) =>
        `GET ${target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n${Array.from({ length: n - 2 }, (_, i) => `X-H${i}: v\r\n`).join('')}\r\n`;
      expect((await wire(a.port, [head(50)])).text).toMatch(/^HTTP\/1\.1 200 /);
      const tooMany = await wire(a.port, [head(51)]);
      expect(tooMany.text).toMatch(/^HTTP\/1\.1 431 /);
      expect(bodyOf(tooMany.text)).toMatchObject({ code: 'NETLAB_ERR_TOO_MANY_HEADERS' });
      expect(tooMany.end).toBe('eof');
      expect(await accessLine(a, 'NETLAB_ERR_TOO_MANY_HEADERS')).toMatchObject({ status: 431 });
    });

    it('refuses 3,000 headers with 431 by default instead of dropping those past Node’s 2,000', async () => {
      const a = await start({ MAX_HEADER_SIZE: '1048576' });
      const headers = Array.from({ length: 3000 }, (_, i) => `X-H${i}: v\r\n`).join('');
      const { text } = await wire(a.port, [`GET ${target} HTTP/1.1\r\nHost: a\r\n${headers}\r\n`]);
      expect(text).toMatch(/^HTTP\/1\.1 431 /);
    });
  });

  describe('HTTP/1 bodies left unread', () => {
    it.each(opts.neverInvites)(
      'never invites %s: the answer comes instead of 100 Continue',
      async (_what, line, status, code) => {
        const a = await start();
        const text = await expectRefusal(
          a.port,
          `${line} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1000000000\r\n\r\n`,
          status,
          code === undefined ? undefined : { code },
        );
        expect(text).not.toContain('100 Continue');
      },
    );

    it('answers a body sent to a route that reads none with Connection: close instead of reading it all', async () => {
      const a = await start();
      const socket = await connect(a.port);
      const seen = watch(socket);
      socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nContent-Length: 500000000\r\n\r\n`);
      // At most 64 MiB of it: a server that reads the body to reuse the
      // connection never closes it, and the test fails on bytesWritten.
      await pump(socket, seen, 64 * 1024 * 1024);
      await seen.closed;
      expect(seen.text).toMatch(/^HTTP\/1\.1 200 /);
      expect(seen.text.toLowerCase()).toContain('connection: close');
      expect(socket.bytesWritten).toBeLessThan(64 * 1024 * 1024);
    });

    it('closes gracefully (lingering close): an upload refused mid-send sees the answer and EOF, not a reset', async () => {
      const a = await start(opts.refusedUpload.env);
      for (let i = 0; i < 3; i++) {
        const socket = await connect(a.port);
        const seen = watch(socket);
        // Like curl without Expect: keep sending the body until the answer comes.
        socket.write(opts.refusedUpload.head);
        await pump(socket, seen, 150 * 64 * 1024, () => seen.text === '' && seen.end === 'open');
        await seen.closed;
        expect(seen.text).toMatch(new RegExp(`^HTTP/1\\.1 ${opts.refusedUpload.status} `));
        expect(seen.end).toBe('eof');
      }
    });
  });

  describe('HTTP/1 draining with keep-alive connections', () => {
    it('answers a request already on its way on an idle keep-alive connection, with Connection: close', async () => {
      const a = await start({ KEEP_ALIVE_TIMEOUT_MS: '30000' });
      const socket = await connect(a.port);
      const seen = watch(socket);
      socket.write(`GET ${target} HTTP/1.1\r\nHost: a\r\n\r\n`);
      await waitUntil(() => seen.text.endsWith(opts.get.ends), { what: 'the first answer' });
      // The drain starts while the next request is on the wire: closing the
      // idle connection at once would lose it.
      const drained = a.server.close({ timeoutMs: 5000 });
      socket.write(`GET ${target} HTTP/1.1\r\nHost: a\r\n\r\n`);
      await seen.closed;
      await drained;
      const answers = seen.text.split(/(?=HTTP\/1\.1 )/);
      expect(answers).toHaveLength(2);
      expect(answers[1]).toMatch(/^HTTP\/1\.1 200 /);
      expect(answers[1]!.toLowerCase()).toContain('connection: close');
      expect(seen.end).toBe('eof');
    });
  });
}
