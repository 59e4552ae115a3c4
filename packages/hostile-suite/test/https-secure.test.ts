import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http2 from 'node:http2';
import { type ReadyApp, startApp, waitUntil } from '@netlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closed, h2load, open } from './clients.js';
import { expectHealthy, rss, survives } from './health.js';
import { hostileSuite, MEMORY_BOUND_BYTES, mainOf } from './suite.js';

hostileSuite({ app: 'https-secure', tls: true, path: '/whoami' });

const GOAWAY = 7;

/** The types of the complete HTTP/2 frames in `bytes` (server to client: no preface). */
function frameTypes(bytes: Buffer): number[] {
  const types: number[] = [];
  for (let at = 0; at + 9 <= bytes.length; at += 9 + bytes.readUIntBE(at, 3)) {
    types.push(bytes[at + 3]!);
  }
  return types;
}

describe('https-secure (HTTP/2)', () => {
  let app: ReadyApp;
  let baseline = 0;
  beforeAll(async () => {
    app = await startApp(mainOf('https-secure'), { HOST: '127.0.0.1' });
    const warm = await h2load(`https://127.0.0.1:${app.port}/whoami`, {
      n: 2000,
      c: 2,
      m: 10,
      h1: false,
    });
    expect(warm.ok, warm.output).toBe(2000);
    baseline = await rss(app);
  });
  afterAll(() => app?.kill());

  it('serves h2load -m100 in full (every stream answered 2xx)', async () => {
    const result = await survives(
      app,
      h2load(`https://127.0.0.1:${app.port}/whoami`, { n: 5000, c: 4, m: 100, h1: false }),
    );
    expect(result.ok, result.output).toBe(result.sent);
    await expectHealthy(app, baseline, MEMORY_BOUND_BYTES);
  });

  it('answers HTTP/2 connections that send random bytes with GOAWAY', async () => {
    const frames = await survives(
      app,
      Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const { socket } = await open({ port: app.port, tls: true }, 'h2');
          const chunks: Buffer[] = [];
          socket.on('data', (d: Buffer) => chunks.push(d));
          const end = closed(socket);
          let timedOut = false;
          const timer = setTimeout(() => {
            timedOut = true;
            socket.destroy();
          }, 8000);
          // Half after a valid preface, so the garbage reaches the frame parser.
          if (i % 2 === 1) socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
          socket.write(randomBytes(16 * 1024));
          // The server's GOAWAY, or its close.
          await Promise.race([
            end,
            waitUntil(() => frameTypes(Buffer.concat(chunks)).includes(GOAWAY)),
          ]);
          clearTimeout(timer);
          socket.destroy();
          return timedOut ? 'no GOAWAY, no close' : 'answered';
        }),
      ),
    );
    // RFC 9113 §5.4.1: a connection error is answered with GOAWAY (§3.4:
    // which may be left out after a bad preface, where Node just closes).
    expect(frames.filter((how) => how !== 'answered')).toEqual([]);
    await expectHealthy(app, baseline, MEMORY_BOUND_BYTES);
  });

  it('survives clients that reset the connection mid-response', async () => {
    let answered = 0;
    await survives(
      app,
      (async () => {
        for (let round = 0; round < 20; round++) {
          const { socket, tcp } = await open({ port: app.port, tls: true }, 'h2');
          const client = http2.connect(`https://127.0.0.1:${app.port}`, {
            createConnection: () => socket,
          });
          client.on('error', () => {});
          const streams = Array.from({ length: 50 }, () => {
            const stream = client.request({ ':path': '/whoami' });
            stream.on('error', () => {});
            return stream;
          });
          await Promise.race([once(streams[0]!, 'response'), once(client, 'close')]);
          if (socket.bytesRead > 0) answered++;
          tcp.resetAndDestroy();
          client.destroy();
        }
      })(),
    );
    expect(answered).toBe(20);
    await expectHealthy(app, baseline, MEMORY_BOUND_BYTES);
  });
});

describe('https-secure (idle HTTP/2 connections)', () => {
  let app: ReadyApp;
  beforeAll(async () => {
    app = await startApp(mainOf('https-secure'), {
      HOST: '127.0.0.1',
      IDLE_TIMEOUT_MS: '1000',
      H2_PING_TIMEOUT_MS: '400',
    });
  });
  afterAll(() => app?.kill());

  // Every HTTP/2 client answers a PING; the server's PING probe must not
  // make those answers look like traffic, or an idle connection is never
  // closed and a client can hold any number open.
  it('closes idle HTTP/2 connections that answer PINGs at IDLE_TIMEOUT_MS', async () => {
    const sessions = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const session = http2.connect(`https://127.0.0.1:${app.port}`, {
          rejectUnauthorized: false,
        });
        session.on('error', () => {});
        const stream = session.request({ ':path': '/whoami' });
        stream.resume();
        await once(stream, 'end');
        return session;
      }),
    );
    try {
      await survives(
        app,
        waitUntil(() => sessions.every((s) => s.closed || s.destroyed), {
          timeoutMs: 8000,
          what: 'every idle session closed by the server',
        }),
      );
    } finally {
      for (const session of sessions) session.destroy();
    }
  });
});
