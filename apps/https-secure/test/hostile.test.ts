import { connect } from '@netlab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { metricValue, run, type Started, startHttps, waitUntil } from './helpers.js';
import {
  END_STREAM_END_HEADERS,
  errorCode,
  frame,
  GET_SLASH,
  GOAWAY,
  HEADERS,
  PING,
  PREFACE,
  RawH2,
  RST_STREAM,
  SETTINGS,
  settings,
} from './raw-h2.js';

let app: Started | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const ENHANCE_YOUR_CALM = 0xb;
const FRAME_SIZE_ERROR = 0x6;
const REFUSED_STREAM = 0x7;
const CANCEL = 0x8;
const accessLines = (a: Started) => a.logs.lines.filter((l) => l.msg === 'request');

describe('HTTP/2 header size, whatever the SETTINGS timing (issue 19, defect 5)', () => {
  it('answers 431 to a header block over MAX_HEADER_SIZE sent before the client acknowledged SETTINGS (curl)', async () => {
    app = await startHttps({ MAX_HEADER_SIZE: '4096' });
    // curl sends its request in its first flight, before it has read our SETTINGS.
    const { stdout } = await run('curl', [
      '-sk',
      '--http2',
      '-w',
      '\n%{http_code} %{http_version}',
      '-H',
      `x-big: ${'a'.repeat(20_000)}`,
      `${app.url}/`,
    ]);
    const status = stdout.slice(stdout.lastIndexOf('\n') + 1);
    expect(status).toBe('431 2');
    expect(JSON.parse(stdout.slice(0, stdout.lastIndexOf('\n')))).toMatchObject({
      code: 'NETLAB_ERR_HEADERS_TOO_LARGE',
      status: 431,
    });
    const line = await app.logs.waitFor((l) => l.code === 'NETLAB_ERR_HEADERS_TOO_LARGE');
    expect(line).toMatchObject({ status: 431, path: '/' });
  });

  it('serves a header block just under the limit', async () => {
    app = await startHttps({ MAX_HEADER_SIZE: '4096' });
    // :method :scheme :authority :path user-agent accept + x-big, 32 bytes each on top.
    const { stdout } = await run('curl', [
      '-sk',
      '--http2',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-H',
      `x-big: ${'a'.repeat(3000)}`,
      `${app.url}/`,
    ]);
    expect(stdout).toBe('200');
  });
});

describe('HTTP/2 rapid reset (CVE-2023-44487)', () => {
  it('closes a session over H2_MAX_STREAM_RESETS with GOAWAY ENHANCE_YOUR_CALM, logs it once, no access line per stream', async () => {
    app = await startHttps({ H2_MAX_STREAM_RESETS: '50' });
    const client = await RawH2.connect(app.port);
    const parts = [PREFACE, settings([])];
    for (let i = 0; i < 500; i++) {
      const id = 1 + 2 * i;
      parts.push(
        frame(HEADERS, END_STREAM_END_HEADERS, id, GET_SLASH),
        frame(RST_STREAM, 0, id, Buffer.from([0, 0, 0, CANCEL])),
      );
    }
    client.write(...parts);
    const goaway = await client.waitFor((f) => f.type === GOAWAY, 'GOAWAY');
    expect(errorCode(goaway)).toBe(ENHANCE_YOUR_CALM);
    // RFC 9113 §5.4.1: after a connection error, the TCP connection is closed.
    await client.closed;
    await waitUntil(
      async () =>
        (await metricValue(
          app!.registry,
          'netlab_http2_sessions_closed_total',
          'reason="resets"',
        )) === 1,
      { what: 'the session counted as closed for resets' },
    );
    const summary = await app.logs.waitFor(
      (l) => l.msg === 'HTTP/2 session closed, streams reset by the client',
    );
    expect(summary.level).toBe('info');
    expect(summary.resets).toBe(
      await metricValue(app.registry, 'netlab_http2_streams_reset_total'),
    );
    expect(summary.resets as number).toBeGreaterThan(50);
    expect(
      app.logs.find((l) => l.code === 'NETLAB_ERR_H2_TOO_MANY_RESETS').map((l) => l.level),
    ).toEqual(['warn']);
    expect(accessLines(app)).toEqual([]);
  });

  it('lets a session reset fewer streams than the budget and keeps serving it', async () => {
    app = await startHttps({ H2_MAX_STREAM_RESETS: '50' });
    const client = await RawH2.connect(app.port);
    const parts = [PREFACE, settings([])];
    for (let i = 0; i < 40; i++) {
      const id = 1 + 2 * i;
      parts.push(
        frame(HEADERS, END_STREAM_END_HEADERS, id, GET_SLASH),
        frame(RST_STREAM, 0, id, Buffer.from([0, 0, 0, CANCEL])),
      );
    }
    parts.push(frame(HEADERS, END_STREAM_END_HEADERS, 81, GET_SLASH));
    client.write(...parts);
    const answer = await client.waitFor((f) => f.type === HEADERS && f.streamId === 81, 'answer');
    expect(answer.streamId).toBe(81);
    expect(client.frames.some((f) => f.type === GOAWAY)).toBe(false);
    client.destroy();
  });
});

describe('HTTP/2 after a connection error the server did not see', () => {
  it('closes the connection after nghttp2 sent GOAWAY for a frame over the maximum size', async () => {
    app = await startHttps({ H2_PING_TIMEOUT_MS: '300' });
    const client = await RawH2.connect(app.port);
    const started = performance.now();
    // A PING must be 8 bytes (RFC 9113 §6.7): 20,000 is over SETTINGS_MAX_FRAME_SIZE too.
    client.write(PREFACE, settings([]), frame(PING, 0, 0, Buffer.alloc(20_000)));
    const goaway = await client.waitFor((f) => f.type === GOAWAY, 'GOAWAY');
    expect(errorCode(goaway)).toBe(FRAME_SIZE_ERROR);
    await client.closed;
    // Not IDLE_TIMEOUT_MS (60 s). Node 20 leaves the socket open and the
    // PING probe closes it; Node 24 closes it itself.
    expect(performance.now() - started).toBeLessThan(5000);
    const nodeCloses = Number(process.versions.node.split('.')[0]) >= 24;
    expect(
      await metricValue(app.registry, 'netlab_http2_sessions_closed_total', 'reason="dead"'),
    ).toBe(nodeCloses ? 0 : 1);
  });

  it('closes a session that stops answering PINGs within H2_PING_TIMEOUT_MS', async () => {
    app = await startHttps({ H2_PING_TIMEOUT_MS: '300' });
    const client = await RawH2.connect(app.port);
    client.answerPings = false;
    client.write(PREFACE, settings([]), frame(HEADERS, END_STREAM_END_HEADERS, 1, GET_SLASH));
    await client.waitFor((f) => f.type === HEADERS && f.streamId === 1, 'the answer');
    const started = performance.now();
    await client.closed;
    expect(performance.now() - started).toBeLessThan(5000);
    expect(client.frames.some((f) => f.type === PING && f.flags === 0)).toBe(true);
    expect(
      await metricValue(app.registry, 'netlab_http2_sessions_closed_total', 'reason="dead"'),
    ).toBe(1);
    const line = await app.logs.waitFor((l) => l.code === 'NETLAB_ERR_H2_SESSION_DEAD');
    expect(line).toMatchObject({ level: 'info', remoteAddress: '127.0.0.1' });
  });

  it('keeps a healthy idle session that answers its PINGs', async () => {
    app = await startHttps({ H2_PING_TIMEOUT_MS: '200' });
    const client = await RawH2.connect(app.port);
    client.write(PREFACE, settings([]));
    await client.waitFor((f) => f.type === SETTINGS && f.flags === 0, 'SETTINGS');
    client.write(frame(SETTINGS, 1, 0));
    for (let i = 0; i < 4; i++) {
      client.write(frame(HEADERS, END_STREAM_END_HEADERS, 1 + 2 * i, GET_SLASH));
      await client.waitFor((f) => f.type === HEADERS && f.streamId === 1 + 2 * i, 'an answer');
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    expect(client.socket.destroyed).toBe(false);
    // It was asked: the probe ran, and the answers kept the session.
    expect(client.frames.some((f) => f.type === PING)).toBe(true);
    expect(await metricValue(app.registry, 'netlab_http2_sessions_closed_total')).toBe(0);
    client.destroy();
  });
});

describe('HTTP/2 streams', () => {
  it('advertises H2_MAX_CONCURRENT_STREAMS and refuses a stream over it', async () => {
    app = await startHttps({ H2_MAX_CONCURRENT_STREAMS: '2' });
    const client = await RawH2.connect(app.port);
    // Window 0: answers cannot be sent, so the streams stay open.
    client.write(PREFACE, settings([[0x4, 0]]));
    const server = await client.waitFor((f) => f.type === SETTINGS && f.flags === 0, 'SETTINGS');
    const advertised = new Map<number, number>();
    for (let i = 0; i + 6 <= server.payload.length; i += 6) {
      advertised.set(server.payload.readUInt16BE(i), server.payload.readUInt32BE(i + 2));
    }
    expect(advertised.get(0x3)).toBe(2); // SETTINGS_MAX_CONCURRENT_STREAMS
    // Acknowledged: from now on the server holds the client to it. nghttp2
    // treats a stream over the limit as a connection error (RFC 9113 §5.1.2
    // allows a stream error or that), and Node closes the connection: the
    // two streams within the limit were answered, the third never is.
    client.write(frame(SETTINGS, 1, 0));
    await client.waitFor((f) => f.type === SETTINGS && f.flags === 1, 'our SETTINGS acknowledged');
    client.write(
      frame(HEADERS, END_STREAM_END_HEADERS, 1, GET_SLASH),
      frame(HEADERS, END_STREAM_END_HEADERS, 3, GET_SLASH),
    );
    await client.waitFor((f) => f.type === HEADERS && f.streamId === 3, 'the second answer');
    client.write(frame(HEADERS, END_STREAM_END_HEADERS, 5, GET_SLASH));
    await client.closed;
    expect(client.frames.filter((f) => f.type === HEADERS).map((f) => f.streamId)).toEqual([1, 3]);
  });

  it('refuses a stream over H2_MAX_OPEN_STREAMS, process-wide, with REFUSED_STREAM', async () => {
    app = await startHttps({ H2_MAX_OPEN_STREAMS: '2' });
    const clients = await Promise.all([RawH2.connect(app.port), RawH2.connect(app.port)]);
    for (const c of clients) c.write(PREFACE, settings([[0x4, 0]]));
    clients[0]!.write(frame(HEADERS, END_STREAM_END_HEADERS, 1, GET_SLASH));
    clients[1]!.write(frame(HEADERS, END_STREAM_END_HEADERS, 1, GET_SLASH));
    await Promise.all(
      clients.map((c) => c.waitFor((f) => f.type === HEADERS && f.streamId === 1, 'an answer')),
    );
    clients[1]!.write(frame(HEADERS, END_STREAM_END_HEADERS, 3, GET_SLASH));
    const refusal = await clients[1]!.waitFor(
      (f) => f.type === RST_STREAM && f.streamId === 3,
      'the third stream refused',
    );
    expect(errorCode(refusal)).toBe(REFUSED_STREAM);
    expect(await metricValue(app.registry, 'netlab_http2_streams_refused_total')).toBe(1);
    expect(await metricValue(app.registry, 'netlab_http2_open_streams')).toBe(2);
    const warn = await app.logs.waitFor((l) => l.code === 'NETLAB_ERR_H2_STREAMS_EXHAUSTED');
    expect(warn.level).toBe('warn');
    for (const c of clients) c.destroy();
  });
});

describe('plain HTTP sent to the TLS port', () => {
  it.each([
    ['HTTP/1.1', 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['h2c (prior knowledge)', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
  ])(
    'answers %s with a plaintext 400 saying HTTPS is expected, logs and counts it',
    async (_, request) => {
      app = await startHttps();
      const socket = await connect(app.port);
      let text = '';
      socket.setEncoding('latin1').on('data', (d: string) => {
        text += d;
      });
      socket.write(request);
      await new Promise((resolve) => socket.once('close', resolve));
      expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(text).toMatch(/\r\nconnection: close\r\n/i);
      expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toEqual({
        error: 'this port speaks HTTPS: plain HTTP (or h2c) was sent to it',
        code: 'NETLAB_ERR_HTTPS_EXPECTED',
        status: 400,
      });
      expect(await metricValue(app.registry, 'netlab_tls_plaintext_connections_total')).toBe(1);
      const line = await app.logs.waitFor((l) => l.code === 'NETLAB_ERR_HTTPS_EXPECTED');
      expect(line).toMatchObject({ level: 'info', remoteAddress: '127.0.0.1' });
    },
  );

  it('curl http:// to the TLS port prints the 400', async () => {
    app = await startHttps();
    const { stdout } = await run('curl', [
      '-s',
      '-w',
      ' %{http_code}',
      `http://127.0.0.1:${app.port}/`,
    ]);
    expect(stdout).toMatch(/"code":"NETLAB_ERR_HTTPS_EXPECTED".* 400$/s);
  });
});
