import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { get1, metricValue, run, type Started, startHttps, waitUntil } from './helpers.js';
import {
  END_STREAM_END_HEADERS,
  errorCode,
  frame,
  GET_SLASH,
  GOAWAY,
  HEADERS,
  PREFACE,
  RawH2,
  settings,
} from './raw-h2.js';

// What createHttpsServer wires together, each checked through a client:
// shutdown (HTTP/2 GOAWAY, the redirect listener, the deadline's log line),
// the connection limit, the parse-error and handshake counters, the
// header deadline over TLS, the access line's origin fields, the 431's headers.

let app: Started | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const NO_ERROR = 0;

/** A TLS connection speaking HTTP/1.1, and everything it receives as text. */
async function tls1(port: number) {
  const socket = tls.connect({
    host: '127.0.0.1',
    port,
    rejectUnauthorized: false,
    ALPNProtocols: ['http/1.1'],
  });
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('secureConnect', resolve));
  let text = '';
  socket.setEncoding('latin1').on('data', (d: string) => {
    text += d;
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, text: () => text, closed };
}

describe('close()', () => {
  it('sends an idle HTTP/2 session GOAWAY and is done long before its deadline', async () => {
    app = await startHttps();
    const client = await RawH2.connect(app.port);
    client.write(PREFACE, settings([]), frame(HEADERS, END_STREAM_END_HEADERS, 1, GET_SLASH));
    await client.waitFor((f) => f.type === HEADERS && f.streamId === 1, 'the answer');
    const started = performance.now();
    await app.server.close({ timeoutMs: 8000 });
    expect(performance.now() - started).toBeLessThan(4000);
    const goaway = await client.waitFor((f) => f.type === GOAWAY, 'GOAWAY');
    expect(errorCode(goaway)).toBe(NO_ERROR);
    expect(app.logs.find((l) => l.code === 'NETLAB_ERR_SHUTTING_DOWN')).toEqual([]);
    app = undefined;
  });

  it('closes an idle keep-alive connection of the redirect listener and is done long before its deadline', async () => {
    app = await startHttps({ HTTP_REDIRECT_PORT: '0' });
    const agent = new http.Agent({ keepAlive: true });
    const port = app.server.redirectAddress()!.port;
    let socket: net.Socket | undefined;
    await new Promise<void>((resolve, reject) => {
      const req = http.get(
        { host: '127.0.0.1', port, path: '/', agent, headers: { host: 'h' } },
        (res) => {
          socket = req.socket!;
          res.resume();
          res.on('end', () => resolve());
        },
      );
      req.on('error', reject);
    });
    expect(socket!.destroyed).toBe(false);
    const started = performance.now();
    await app.server.close({ timeoutMs: 8000 });
    expect(performance.now() - started).toBeLessThan(4000);
    await waitUntil(() => socket!.destroyed, { what: 'the keep-alive connection closed' });
    agent.destroy();
    app = undefined;
  });

  it('a request still running at the deadline is logged as cut by the shutdown (503), not 499', async () => {
    app = await startHttps({ MAX_DELAY_MS: '10000' });
    const c = await tls1(app.port);
    c.socket.write('GET /delay/5000 HTTP/1.1\r\nHost: a\r\n\r\n');
    await waitUntil(() => app!.server.handler.stats.inFlight === 1);
    await app.server.close({ timeoutMs: 50 });
    const line = await app.logs.waitFor((l) => l.code === 'NETLAB_ERR_SHUTTING_DOWN');
    expect(line).toMatchObject({ path: '/delay/5000', status: 503, reason: 'shutdown' });
    expect(app.logs.find((l) => l.status === 499)).toEqual([]);
    app = undefined;
  });
});

describe('counted and logged', () => {
  it('a connection over MAX_CONNECTIONS is dropped and counted', async () => {
    app = await startHttps({ MAX_CONNECTIONS: '1' });
    const first = await tls1(app.port);
    const second = net.connect(app.port, '127.0.0.1');
    second.on('error', () => {});
    await new Promise((resolve) => second.once('close', resolve));
    await waitUntil(
      async () =>
        (await metricValue(app!.registry, 'netlab_http_connections_rejected_total')) === 1,
      { what: 'the drop counted' },
    );
    first.socket.destroy();
  });

  it('the redirect listener keeps MAX_CONNECTIONS too', async () => {
    app = await startHttps({ HTTP_REDIRECT_PORT: '0', MAX_CONNECTIONS: '1' });
    const port = app.server.redirectAddress()!.port;
    const held = net.connect(port, '127.0.0.1');
    held.on('error', () => {});
    await new Promise((resolve) => held.once('connect', resolve));
    await waitUntil(
      async () => {
        const second = net.connect(port, '127.0.0.1');
        second.on('error', () => {});
        await new Promise((resolve) => second.once('close', resolve));
        return (await metricValue(app!.registry, 'netlab_http_connections_rejected_total')) === 1;
      },
      { what: 'the second connection dropped' },
    );
    held.destroy();
  });

  it('a request Node cannot parse is counted by its code', async () => {
    app = await startHttps();
    const c = await tls1(app.port);
    c.socket.write('\x00\x01garbage\r\n\r\n');
    await c.closed;
    expect(c.text()).toMatch(/^HTTP\/1\.1 400 /);
    expect(
      await metricValue(
        app.registry,
        'netlab_http_client_errors_total',
        'code="NETLAB_ERR_BAD_REQUEST"',
      ),
    ).toBe(1);
  });

  it('completed handshakes are counted, resumed or not', async () => {
    app = await startHttps();
    expect((await get1(`${app.url}/`, { ca: app.ca })).status).toBe(200);
    expect(await metricValue(app.registry, 'netlab_tls_handshakes_total', 'resumed="false"')).toBe(
      1,
    );
  });

  it('a head never finished gets 408 at the shorter of HEADERS_TIMEOUT_MS and REQUEST_TIMEOUT_MS, and is closed', async () => {
    app = await startHttps({ HEADERS_TIMEOUT_MS: '10000', REQUEST_TIMEOUT_MS: '500' });
    const c = await tls1(app.port);
    const started = performance.now();
    c.socket.write('GET / HTTP/1.1\r\nHost: a\r\n');
    await c.closed;
    expect(c.text()).toMatch(/^HTTP\/1\.1 408 /);
    // Node checks every connectionsCheckingInterval: a quarter of the deadline here, not its 30 s default.
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('the plaintext line quotes the first bytes as they came (latin1)', async () => {
    app = await startHttps();
    const socket = net.connect(app.port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write(
      Buffer.concat([Buffer.from([0xff]), Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n')]),
    );
    socket.resume();
    await new Promise((resolve) => socket.once('close', resolve));
    const line = await app.logs.waitFor((l) => l.code === 'NETLAB_ERR_HTTPS_EXPECTED');
    // The first 16 bytes, enough to tell what it was.
    expect(line.start).toBe(JSON.stringify('\u00ffGET / HTTP/1.1\r'));
  });

  it('without PROXY_PROTOCOL the access line has no peer or client fields', async () => {
    app = await startHttps();
    await get1(`${app.url}/`, { ca: app.ca });
    const line = await app.logs.waitFor((l) => l.msg === 'request');
    expect(line).not.toHaveProperty('client');
    expect(line).not.toHaveProperty('peer');
  });
});

describe('the HTTP/2 431', () => {
  it('is JSON with HSTS, like every answer', async () => {
    app = await startHttps({ MAX_HEADER_SIZE: '4096', HSTS_MAX_AGE_S: '777' });
    const { stdout } = await run('curl', [
      '-sk',
      '--http2',
      '-D',
      '-',
      '-o',
      '/dev/null',
      '-H',
      `x-big: ${'a'.repeat(20_000)}`,
      `${app.url}/`,
    ]);
    expect(stdout).toMatch(/^HTTP\/2 431 \r\n/);
    expect(stdout).toContain('\r\ncontent-type: application/json; charset=utf-8\r\n');
    expect(stdout).toContain('\r\nstrict-transport-security: max-age=777\r\n');
    const line = await app.logs.waitFor((l) => l.code === 'NETLAB_ERR_HEADERS_TOO_LARGE');
    expect(line).toMatchObject({ status: 431, path: '/' });
  });
});
