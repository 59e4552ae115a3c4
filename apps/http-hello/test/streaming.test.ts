import { once } from 'node:events';
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, request, type Started, startHello } from './helpers.js';

interface Arrival {
  at: number;
  text: string;
}

/** GET `url`, recording when each chunk of the body arrives (Date.now()). */
function arrivals(
  url: string,
  onChunk: (text: string) => void = () => {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; chunks: Arrival[] }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        const chunks: Arrival[] = [];
        res.setEncoding('utf8');
        res.on('data', (text: string) => {
          chunks.push({ at: Date.now(), text });
          onChunk(text);
        });
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, chunks }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

let app: Started | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('/drip', () => {
  it('sends count chunks, interval apart, each with its send time, as they are made', async () => {
    app = await startHello();
    const res = await arrivals(`${app.url}/drip?count=3&interval=200ms&size=4`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson');
    expect(res.headers['transfer-encoding']).toBe('chunked');
    const lines = res.chunks
      .map((c) => c.text)
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.seq)).toEqual([1, 2, 3]);
    expect(lines.map((l) => l.count)).toEqual([3, 3, 3]);
    expect(lines.map((l) => l.pad)).toEqual(['xxxx', 'xxxx', 'xxxx']);
    // At once, not an interval later (a millisecond boundary may fall
    // between the stream's start and its first chunk: 0 or 1).
    expect(lines[0].elapsedMs).toBeLessThan(200);
    expect(lines[1].elapsedMs).toBeGreaterThanOrEqual(200);
    expect(lines[2].elapsedMs).toBeGreaterThanOrEqual(400);
    // Not buffered: the first chunk reached the client before the last was sent.
    expect(res.chunks[0]!.at).toBeLessThan(Date.parse(lines[2].sentAt));
    expect(res.chunks.length).toBe(3);
  });

  it('refuses a stream over MAX_STREAM_MS with a 400 naming the parameter', async () => {
    app = await startHello({ MAX_STREAM_MS: '1000' });
    const res = await request(`${app.url}/drip?count=12&interval=100ms`);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({
      code: 'NETLAB_ERR_CONTROL_OUT_OF_RANGE',
      parameter: 'count',
    });
  });
});

describe('a client that leaves mid-stream', () => {
  it('stops the stream and is logged as gone (499)', async () => {
    app = await startHello();
    const socket = await connect(app.port);
    socket.write(
      'GET /drip?count=100&interval=50ms HTTP/1.1\r\nHost: x\r\nX-Request-Id: gone\r\n\r\n',
    );
    await once(socket, 'data');
    socket.destroy();
    const line = await app.logs.waitFor((l) => l.requestId === 'gone');
    expect(line.status).toBe(499);
    expect(app.server.handler.stats.inFlight).toBe(0);
  });
});

describe('/sse', () => {
  it('sends server-sent events with their send time, ending after duration', async () => {
    app = await startHello();
    const res = await arrivals(`${app.url}/sse?interval=100ms&duration=200ms`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const events = res.chunks
      .map((c) => c.text)
      .join('')
      .split('\n\n')
      .filter((e) => e !== '');
    expect(events.length).toBe(3);
    for (const [i, event] of events.entries()) {
      const [id, name, data] = event.split('\n');
      expect(id).toBe(`id: ${i + 1}`);
      expect(name).toBe('event: tick');
      const payload = JSON.parse(data!.slice('data: '.length));
      expect(payload.seq).toBe(i + 1);
      expect(Number.isNaN(Date.parse(payload.sentAt))).toBe(false);
    }
  });

  it('ends a stream early, cleanly, when the server drains', async () => {
    app = await startHello();
    const server = app.server;
    let closing: Promise<void> | undefined;
    // Once the first event is out, shut down (with a deadline far beyond the test).
    const res = await arrivals(`${app.url}/sse?count=100&interval=200ms`, () => {
      closing ??= server.close({ timeoutMs: 60_000 });
    });
    await closing;
    const line = await app.logs.waitFor((l) => l.path === '/sse');
    app = undefined;
    const events = res.chunks
      .map((c) => c.text)
      .join('')
      .split('\n\n')
      .filter((e) => e !== '');
    expect(events.length).toBeLessThan(100);
    expect(events.length).toBeGreaterThanOrEqual(2);
    // A complete answer, ended at its next tick (a cut by the deadline would log 503).
    expect(line.status).toBe(200);
    expect(line.code).toBeUndefined();
  });
});
