import net from 'node:net';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { get1, metricValue, type Started, startHttps, waitUntil } from './helpers.js';

// plaintext.ts looks at each connection's first bytes before TLS takes it:
// what it does with a client that sends nothing, and that it lets go of a
// connection once TLS has it.

let app: Started | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const failures = (a: Started) => a.logs.find((l) => l.msg === 'TLS handshake failed');
const handshakeErrors = (a: Started, labels?: string) =>
  metricValue(a.registry, 'netlab_tls_handshake_errors_total', labels);

/** A TCP connection to the app, opened and hung up at once: with a FIN, or with a RST. */
async function hangUp(port: number, how: 'fin' | 'rst'): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  if (how === 'fin') socket.end();
  else socket.resetAndDestroy();
  await new Promise((resolve) => socket.once('close', resolve));
}

describe('a client that hangs up before sending anything (a TCP health check)', () => {
  it.each([
    ['with a FIN', 'fin'],
    ['with a RST', 'rst'],
  ] as const)(
    '%s: counted as a reset at once, logged at debug, not left to the handshake timeout',
    async (_, how) => {
      // A long deadline: what is counted must come from the hang-up, not the timer.
      app = await startHttps({ TLS_HANDSHAKE_TIMEOUT_MS: '30000' });
      await hangUp(app.port, how);
      await waitUntil(async () => (await handshakeErrors(app!)) === 1, {
        what: 'the hang-up counted',
        timeoutMs: 5000,
      });
      expect(await handshakeErrors(app, 'reason="reset"')).toBe(1);
      expect(await handshakeErrors(app, 'code="ECONNRESET"')).toBe(1);
      expect(failures(app)).toMatchObject([
        { level: 'debug', code: 'ECONNRESET', reason: 'reset', remoteAddress: '127.0.0.1' },
      ]);
      expect(app.server.connections).toBe(0);
    },
  );
});

describe('a connection TLS has taken', () => {
  it.each([
    ['closes normally', 'fin'],
    ['is reset by the client', 'rst'],
  ] as const)('that %s after its request is no handshake failure', async (_, how) => {
    app = await startHttps();
    const tcp = net.connect(app.port, '127.0.0.1');
    tcp.on('error', () => {});
    const secure = tls.connect({
      socket: tcp,
      ca: app.ca,
      servername: 'localhost',
      ALPNProtocols: ['http/1.1'],
    });
    secure.on('error', () => {});
    await new Promise((resolve) => secure.once('secureConnect', resolve));
    let answer = '';
    secure.setEncoding('latin1').on('data', (d: string) => {
      answer += d;
    });
    secure.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await waitUntil(() => answer.endsWith('Hello HTTPS\n'), { what: 'the answer' });
    expect(answer.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
    if (how === 'fin') tcp.end();
    else tcp.resetAndDestroy();
    await waitUntil(() => app!.server.connections === 0, { what: 'the connection closed' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await handshakeErrors(app)).toBe(0);
    expect(failures(app)).toEqual([]);
  });

  it('a client that speaks plain HTTP and then resets is answered, and the server keeps serving', async () => {
    app = await startHttps();
    for (let i = 0; i < 5; i++) {
      const socket = net.connect(app.port, '127.0.0.1');
      socket.on('error', () => {});
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      await new Promise((resolve) => socket.once('data', resolve));
      socket.resetAndDestroy();
    }
    await waitUntil(
      async () =>
        (await metricValue(app!.registry, 'netlab_tls_plaintext_connections_total')) === 5,
      {
        what: 'five plaintext connections counted',
      },
    );
    expect((await get1(`${app.url}/`, { ca: app.ca })).status).toBe(200);
  });
});
