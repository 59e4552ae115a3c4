import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@netlab/common';
import { LogCapture } from '@netlab/testkit';
import { createDemoPki } from '@netlab/tls';
import { afterEach, describe, expect, it } from 'vitest';
import { headerListSize, limitHttp2 } from '../src/h2-limits.js';
import { get2, h2request, metricValue, type Started, startHttps, waitUntil } from './helpers.js';
import {
  END_STREAM_END_HEADERS,
  errorCode,
  frame,
  GET_SLASH,
  GOAWAY,
  HEADERS,
  literal,
  PING,
  PREFACE,
  RawH2,
  RST_STREAM,
  SETTINGS,
  settings,
} from './raw-h2.js';

// The boundaries of h2-limits.ts, each at its edge: what hostile.test.ts
// shows working, these pin to the exact count, size and time.

let app: Started | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const ENHANCE_YOUR_CALM = 0xb;
const REFUSED_STREAM = 0x7;
const CANCEL = Buffer.from([0, 0, 0, 0x8]);
const SUMMARY = 'HTTP/2 session closed, streams reset by the client';
const resets = (a: Started) => metricValue(a.registry, 'netlab_http2_streams_reset_total');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `count` streams opened and reset at once, from stream id `first` on. */
function rapidResets(count: number, first = 1, headers = GET_SLASH): Buffer[] {
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const id = first + 2 * i;
    parts.push(
      frame(HEADERS, END_STREAM_END_HEADERS, id, headers),
      frame(RST_STREAM, 0, id, CANCEL),
    );
  }
  return parts;
}

describe('H2_MAX_STREAM_RESETS, a token bucket over 10 s', () => {
  it.each([
    // HPACK: :method CONNECT and :authority a, literals with the static table's names 2 and 1.
    ['CONNECT', Buffer.from([0x02, 0x07, ...Buffer.from('CONNECT'), 0x01, 0x01, 0x61])],
    // HPACK: `expect: x`, a literal with the static table's name 35 (RFC 7541 Appendix A).
    [
      'Expect other than 100-continue',
      Buffer.concat([GET_SLASH, Buffer.from([0x0f, 0x14, 0x01, 0x78])]),
    ],
  ])(
    'counts resets of streams Node does not hand to the request listener: %s',
    async (_, headers) => {
      app = await startHttps({ H2_MAX_STREAM_RESETS: '5' });
      const client = await RawH2.connect(app.port);
      client.write(PREFACE, settings([]), ...rapidResets(20, 1, headers));
      const goaway = await client.waitFor((f) => f.type === GOAWAY, 'GOAWAY');
      expect(errorCode(goaway)).toBe(ENHANCE_YOUR_CALM);
      await client.closed;
    },
  );

  it('lets a burst of exactly the budget through, then earns resets back: one more after 300 ms (50 per 10 s) is allowed', async () => {
    app = await startHttps({ H2_MAX_STREAM_RESETS: '50' });
    const client = await RawH2.connect(app.port);
    client.write(
      PREFACE,
      settings([]),
      ...rapidResets(50),
      frame(HEADERS, END_STREAM_END_HEADERS, 101, GET_SLASH),
    );
    await client.waitFor(
      (f) => f.type === HEADERS && f.streamId === 101,
      'the answer after 50 resets',
    );
    // 300 ms earn 1.5 resets back (50 per 10,000 ms).
    await sleep(300);
    client.write(...rapidResets(1, 103), frame(HEADERS, END_STREAM_END_HEADERS, 105, GET_SLASH));
    await client.waitFor(
      (f) => f.type === HEADERS && f.streamId === 105,
      'the answer after one more',
    );
    expect(client.frames.filter((f) => f.type === GOAWAY)).toEqual([]);
    expect(await resets(app)).toBe(51);
    // The bucket is not bottomless: a second burst closes the session.
    client.write(...rapidResets(10, 107));
    const goaway = await client.waitFor((f) => f.type === GOAWAY, 'GOAWAY');
    expect(errorCode(goaway)).toBe(ENHANCE_YOUR_CALM);
  });

  it('over the budget: GOAWAY ENHANCE_YOUR_CALM and the connection closed at once, one warn line with the limit', async () => {
    app = await startHttps({ H2_MAX_STREAM_RESETS: '5' });
    const client = await RawH2.connect(app.port);
    client.write(PREFACE, settings([]));
    await client.waitFor((f) => f.type === SETTINGS && f.flags === 0, 'SETTINGS');
    client.write(...rapidResets(6));
    await client.waitFor((f) => f.type === GOAWAY, 'GOAWAY');
    const port = client.socket.localPort;
    // Closed by the server, not left for the PING probe (H2_PING_TIMEOUT_MS, 10 s by default) or the idle timeout.
    const started = performance.now();
    await client.closed;
    expect(performance.now() - started).toBeLessThan(2000);
    const warn = await app.logs.waitFor((l) => l.code === 'NETLAB_ERR_H2_TOO_MANY_RESETS');
    expect(warn).toMatchObject({
      level: 'warn',
      msg: 'HTTP/2 session closed: too many stream resets (GOAWAY ENHANCE_YOUR_CALM)',
      limit: 5,
      resets: 6,
      streams: 6,
      remoteAddress: '127.0.0.1',
      remotePort: port,
    });
  });

  it('a session that reset streams within its budget: one info line at its close, with exact counts', async () => {
    app = await startHttps({ H2_MAX_STREAM_RESETS: '50' });
    const client = await RawH2.connect(app.port);
    const opened = performance.now();
    client.write(
      PREFACE,
      settings([]),
      ...rapidResets(40),
      frame(HEADERS, END_STREAM_END_HEADERS, 81, GET_SLASH),
    );
    await client.waitFor((f) => f.type === HEADERS && f.streamId === 81, 'the answer');
    const port = client.socket.localPort;
    client.destroy();
    const line = await app.logs.waitFor((l) => l.msg === SUMMARY);
    const lifetime = performance.now() - opened;
    expect(line).toMatchObject({
      level: 'info',
      streams: 41,
      resets: 40,
      remoteAddress: '127.0.0.1',
      remotePort: port,
    });
    expect(line.durationMs as number).toBeGreaterThanOrEqual(0);
    expect(line.durationMs as number).toBeLessThanOrEqual(Math.ceil(lifetime));
    expect(await resets(app)).toBe(40);
  });

  it('a session whose streams all ended normally: no reset counted, no summary line', async () => {
    app = await startHttps({ H2_MAX_STREAM_RESETS: '50' });
    for (let i = 0; i < 3; i++) {
      expect((await get2(`${app.url}/`, { ca: app.ca })).status).toBe(200);
    }
    await waitUntil(
      async () => (await metricValue(app!.registry, 'netlab_http2_open_streams')) === 0,
      {
        what: 'the streams closed',
      },
    );
    await sleep(50);
    expect(await resets(app)).toBe(0);
    expect(app.logs.find((l) => l.msg === SUMMARY)).toEqual([]);
  });

  it('a connection that drops (TCP RST) with streams open: its streams are not counted as resets', async () => {
    app = await startHttps({ H2_MAX_STREAM_RESETS: '50' });
    const client = await RawH2.connect(app.port);
    // Window 0: the answers cannot be sent, the streams stay open.
    client.write(PREFACE, settings([[0x4, 0]]));
    for (const id of [1, 3, 5]) client.write(frame(HEADERS, END_STREAM_END_HEADERS, id, GET_SLASH));
    await client.waitFor((f) => f.type === HEADERS && f.streamId === 5, 'the third answer');
    expect(await metricValue(app.registry, 'netlab_http2_open_streams')).toBe(3);
    client.reset();
    await waitUntil(
      async () => (await metricValue(app!.registry, 'netlab_http2_open_streams')) === 0,
      {
        what: 'the streams closed',
      },
    );
    expect(await resets(app)).toBe(0);
    expect(app.logs.find((l) => l.msg === SUMMARY)).toEqual([]);
  });
});

describe('H2_PING_TIMEOUT_MS', () => {
  it('keeps a session whose client answers PINGs slowly but within the timeout', async () => {
    // The probe runs every 1000 ms; the client answers after 1300: a probe sees the PING outstanding and waits.
    app = await startHttps({ H2_PING_TIMEOUT_MS: '2000' });
    const client = await RawH2.connect(app.port);
    client.pingDelayMs = 1300;
    client.write(PREFACE, settings([]), frame(HEADERS, END_STREAM_END_HEADERS, 1, GET_SLASH));
    await client.waitFor((f) => f.type === HEADERS && f.streamId === 1, 'the answer');
    await client.waitFor((f) => f.type === PING && f.flags === 0, 'a PING');
    await sleep(1600);
    expect(client.socket.destroyed).toBe(false);
    client.write(frame(HEADERS, END_STREAM_END_HEADERS, 3, GET_SLASH));
    await client.waitFor((f) => f.type === HEADERS && f.streamId === 3, 'a second answer');
    expect(await metricValue(app.registry, 'netlab_http2_sessions_closed_total')).toBe(0);
    client.destroy();
  });

  it('asks an idle session once after its last request, not every interval (its answer is not traffic)', async () => {
    // The probe runs every 100 ms.
    app = await startHttps({ H2_PING_TIMEOUT_MS: '200' });
    const client = await RawH2.connect(app.port);
    client.write(PREFACE, settings([]), frame(HEADERS, END_STREAM_END_HEADERS, 1, GET_SLASH));
    await client.waitFor((f) => f.type === HEADERS && f.streamId === 1, 'the answer');
    await sleep(1000);
    expect(client.frames.filter((f) => f.type === PING).length).toBe(1);
    expect(client.socket.destroyed).toBe(false);
    client.destroy();
  });

  it('an idle session whose client answers PINGs is still closed at IDLE_TIMEOUT_MS', async () => {
    app = await startHttps({ H2_PING_TIMEOUT_MS: '200', IDLE_TIMEOUT_MS: '600' });
    // Node's client answers every PING, as browsers and curl do.
    const session = http2.connect(app.url, { ca: app.ca });
    const closed = new Promise<void>((resolve) => session.once('close', () => resolve()));
    session.on('error', () => {});
    expect((await h2request(session, '/')).status).toBe(200);
    await closed;
    expect(await metricValue(app.registry, 'netlab_http_connections_idle_closed_total')).toBe(1);
    expect(await metricValue(app.registry, 'netlab_http2_sessions_closed_total')).toBe(0);
  });

  it('a dead session is closed with its reason in the log', async () => {
    app = await startHttps({ H2_PING_TIMEOUT_MS: '200' });
    const client = await RawH2.connect(app.port);
    client.answerPings = false;
    client.write(PREFACE, settings([]), frame(HEADERS, END_STREAM_END_HEADERS, 1, GET_SLASH));
    await client.closed;
    const line = await app.logs.waitFor((l) => l.code === 'NETLAB_ERR_H2_SESSION_DEAD');
    expect(line).toMatchObject({
      level: 'info',
      msg: 'HTTP/2 session closed: no answer to PING (the session had ended on a protocol error)',
      pingTimeoutMs: 200,
      remoteAddress: '127.0.0.1',
    });
  });
});

/**
 * The `:status` of an answer's HPACK block, as Node encodes it: after a
 * dynamic table size update (0x20-0x3f), either the static table's
 * `:status 200` (0x88) or a literal with the static name `:status` (8).
 */
function statusOf(block: Buffer): number {
  let i = 0;
  while ((block[i]! & 0xe0) === 0x20) i++;
  if (block[i] === 0x88) return 200;
  expect(block[i]! & 0x0f).toBe(8);
  return Number(block.subarray(i + 2, i + 2 + block[i + 1]!).toString('latin1'));
}

describe('MAX_HEADER_SIZE on HTTP/2, counted as SETTINGS_MAX_HEADER_LIST_SIZE counts it', () => {
  // The request's own fields: :method GET, :scheme https, :path /, :authority a (name + value + 32 each).
  const OWN = 7 + 3 + 32 + (7 + 5 + 32) + (5 + 1 + 32) + (10 + 1 + 32);
  const padded = (size: number) =>
    Buffer.concat([GET_SLASH, literal('x-pad', 'a'.repeat(size - OWN - (5 + 32)))]);

  it.each([
    [4096, 200],
    [4097, 431],
  ])('a header list of %i bytes against 4096 in the first flight: %i', async (size, status) => {
    app = await startHttps({ MAX_HEADER_SIZE: '4096' });
    const client = await RawH2.connect(app.port);
    client.write(PREFACE, settings([]), frame(HEADERS, END_STREAM_END_HEADERS, 1, padded(size)));
    const answer = await client.waitFor(
      (f) => f.type === HEADERS && f.streamId === 1,
      'the answer',
    );
    expect(statusOf(answer.payload)).toBe(status);
    client.destroy();
  });

  it('headerListSize: name + value + 32 per field, in bytes, pairs only', () => {
    expect(headerListSize([])).toBe(0);
    expect(headerListSize([':path', '/', 'x-é', 'ü'])).toBe(5 + 1 + 32 + (4 + 2 + 32));
    expect(headerListSize(['a', 'b', 'dangling'])).toBe(34);
  });
});

describe('H2_MAX_OPEN_STREAMS refusals', () => {
  it('a refused stream is ours, not a client reset', async () => {
    app = await startHttps({ H2_MAX_OPEN_STREAMS: '1' });
    const client = await RawH2.connect(app.port);
    client.write(
      PREFACE,
      settings([[0x4, 0]]),
      frame(HEADERS, END_STREAM_END_HEADERS, 1, GET_SLASH),
    );
    await client.waitFor((f) => f.type === HEADERS && f.streamId === 1, 'the answer');
    client.write(frame(HEADERS, END_STREAM_END_HEADERS, 3, GET_SLASH));
    const refusal = await client.waitFor(
      (f) => f.type === RST_STREAM && f.streamId === 3,
      'the refusal',
    );
    expect(errorCode(refusal)).toBe(REFUSED_STREAM);
    expect(await metricValue(app.registry, 'netlab_http2_streams_refused_total')).toBe(1);
    expect(await resets(app)).toBe(0);
    client.destroy();
  });

  it('logs the first refusal at once and the rest in one line per interval, then goes quiet', async () => {
    const pki = await createDemoPki();
    const logs = new LogCapture();
    const logger = createLogger({ service: 't', version: 't', level: 'debug', destination: logs });
    const server = http2.createSecureServer({ cert: pki.server.cert, key: pki.server.key });
    let refused = 0;
    const limits = limitHttp2(server, {
      maxStreamResets: 100,
      maxOpenStreams: 1,
      maxHeaderSize: 8192,
      pingTimeoutMs: 10_000,
      refusalLogIntervalMs: 300,
      logger,
      onReset: () => {},
      onSessionClosed: () => {},
      onRefused: () => refused++,
      refuseHeaders: () => {},
    });
    server.on('request', (req, res) => limits.gate(req, res, () => res.end('ok')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = await RawH2.connect((server.address() as AddressInfo).port);
    try {
      const refusalLines = () =>
        logs.lines.filter((l) => l.code === 'NETLAB_ERR_H2_STREAMS_EXHAUSTED');
      client.write(
        PREFACE,
        settings([[0x4, 0]]),
        frame(HEADERS, END_STREAM_END_HEADERS, 1, GET_SLASH),
      );
      await client.waitFor((f) => f.type === HEADERS && f.streamId === 1, 'the answer');
      client.write(...[3, 5, 7].map((id) => frame(HEADERS, END_STREAM_END_HEADERS, id, GET_SLASH)));
      await client.waitFor((f) => f.type === RST_STREAM && f.streamId === 7, 'the third refusal');
      expect(refused).toBe(3);
      expect(refusalLines()).toMatchObject([
        { level: 'warn', msg: 'HTTP/2 stream refused: H2_MAX_OPEN_STREAMS reached', limit: 1 },
      ]);
      await logs.waitFor((l) => l.refused !== undefined);
      expect(refusalLines()[1]).toMatchObject({
        level: 'warn',
        msg: 'HTTP/2 streams refused: H2_MAX_OPEN_STREAMS reached',
        refused: 2,
        limit: 1,
        intervalMs: 300,
      });
      // An interval with no refusal ends the quiet period: the next one is logged at once again.
      await sleep(700);
      expect(refusalLines()).toHaveLength(2);
      client.write(frame(HEADERS, END_STREAM_END_HEADERS, 9, GET_SLASH));
      await client.waitFor((f) => f.type === RST_STREAM && f.streamId === 9, 'the fourth refusal');
      expect(refusalLines()).toHaveLength(3);
      expect(refusalLines()[2]!.msg).toBe('HTTP/2 stream refused: H2_MAX_OPEN_STREAMS reached');
    } finally {
      client.destroy();
      limits.stop();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
