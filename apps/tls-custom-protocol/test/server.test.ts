import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { metricValue, waitUntil } from '@netlab/testkit';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame, encodeU64, RequestType, ResponseType } from '../src/protocol.js';
import { errorOf, rawConnect, type Started, startServer } from './helpers.js';
import { makePki, preparedTls, type TestPki } from './pki.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await makePki();
});

let started: Started[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.close();
});
async function start(env: Record<string, string> = {}, clientAuth?: 'required' | 'optional') {
  const s = await startServer(pki, env, preparedTls(pki, clientAuth));
  started.push(s);
  return s;
}

describe('netlab/1 commands', () => {
  it('answers PING, ECHO (binary-safe), TIME and INFO', async () => {
    const s = await start();
    const client = await s.client();
    await client.ping();
    const bytes = Buffer.from([0, 1, 2, 255, 13, 10, 0]);
    expect(await client.echo(bytes)).toEqual(bytes);
    expect(await client.echo('')).toEqual(Buffer.alloc(0));
    const time = await client.time();
    expect(new Date(time).toISOString()).toBe(time);
    const info = await client.info();
    expect(info).toMatchObject({
      protocol: 'TLSv1.3',
      alpn: 'netlab/1',
      resumed: false,
      clientCertificate: null,
      peer: { address: '127.0.0.1' },
    });
    expect(info.cipher).toMatch(/^TLS_/);
  });

  it('STREAMs exactly the bytes asked for in DATA frames, then STREAM_END with the total', async () => {
    const s = await start();
    const client = await s.client();
    let received = 0;
    let frames = 0;
    const total = await client.stream(1_000_001, (payload) => {
      received += payload.length;
      frames++;
    });
    expect(total).toBe(1_000_001);
    expect(received).toBe(1_000_001);
    expect(frames).toBe(Math.ceil(1_000_001 / 65_536));
    expect(await client.stream(0)).toBe(0);
  });

  it('answers BYE with BYE_ACK and closes the connection', async () => {
    const s = await start();
    const client = await s.client();
    await client.bye();
    expect(client.socket.destroyed).toBe(true);
    await expect(client.ping()).rejects.toMatchObject({ code: 'NETLAB_ERR_CONNECTION_CLOSED' });
    const line = await s.logs.waitFor((l) => l.msg === 'connection closed');
    expect(line).toMatchObject({ reason: 'bye', framesIn: 1, framesOut: 1, tlsVersion: 'TLSv1.3' });
  });

  it('after BYE, what the client still sends is read and dropped: the BYE_ACK arrives and the close is a FIN, not a reset', async () => {
    const s = await start();
    const raw = await rawConnect(s.port, pki);
    let reset = false;
    raw.socket.on('error', (err: NodeJS.ErrnoException) => {
      reset ||= err.code === 'ECONNRESET';
    });
    // BYE, then 1 MiB the server will never answer: unread, it would turn the close into an RST.
    raw.socket.write(
      Buffer.concat([
        encodeFrame(RequestType.BYE, 9),
        encodeFrame(RequestType.ECHO, 10, Buffer.alloc(1 << 20)),
      ]),
    );
    const ack = await raw.waitFor((f) => f.type === ResponseType.BYE_ACK);
    expect(ack.id).toBe(9);
    await new Promise((resolve) => raw.socket.once('end', resolve));
    expect(reset).toBe(false);
    expect(raw.frames.map((f) => f.type)).toEqual([ResponseType.BYE_ACK]);
    raw.socket.destroy();
  });

  it('answers 1,000 pipelined requests on one connection, each with its own id', async () => {
    const s = await start();
    const raw = await rawConnect(s.port, pki);
    const requests = Array.from({ length: 1000 }, (_, i) =>
      encodeFrame(RequestType.ECHO, 1000 + i, Buffer.from(`request ${i}`)),
    );
    raw.socket.write(Buffer.concat(requests)); // all at once, before any answer
    await waitUntil(() => raw.frames.length === 1000);
    for (const [i, frame] of raw.frames.entries()) {
      expect(frame.type).toBe(ResponseType.ECHO_REPLY);
      expect(frame.payload.toString()).toBe(`request ${frame.id - 1000}`);
      expect(frame.id).toBe(1000 + i);
    }
    // The client library pipelines the same way.
    const client = await s.client();
    const answers = await Promise.all(Array.from({ length: 1000 }, (_, i) => client.echo(`n${i}`)));
    expect(answers.map(String)).toEqual(Array.from({ length: 1000 }, (_, i) => `n${i}`));
  });

  it('the client packs one tick of requests into 64 KiB blocks: every answer comes back as it was sent', async () => {
    const s = await start();
    const client = await s.client();
    // 300 KiB of small requests (several blocks), a 100 KB one in the middle
    // (a buffer of its own), and a caller that reuses its buffer at once.
    const sent = Array.from({ length: 301 }, (_, i) =>
      Buffer.alloc(i === 150 ? 100_000 : 1000 + (i % 50), i % 251),
    );
    const reused = Buffer.alloc(1024, 1);
    const answers = sent.map((b) => client.echo(b));
    const echoedReused = client.echo(reused);
    reused.fill(2);
    const back = await Promise.all(answers);
    expect(back.map((b) => b.toString('hex'))).toEqual(sent.map((b) => b.toString('hex')));
    expect((await echoedReused).equals(Buffer.alloc(1024, 1))).toBe(true);
  });

  it('answers a PING between the DATA frames of a long STREAM (pipelining, not head-of-line)', async () => {
    const s = await start();
    const raw = await rawConnect(s.port, pki);
    raw.socket.write(
      Buffer.concat([
        encodeFrame(RequestType.STREAM, 1, encodeU64(32 * 1024 * 1024)),
        encodeFrame(RequestType.PING, 2),
      ]),
    );
    const pong = await raw.waitFor((f) => f.type === ResponseType.PONG);
    await raw.waitFor((f) => f.type === ResponseType.STREAM_END);
    expect(pong.id).toBe(2);
    const pongAt = raw.frames.indexOf(pong);
    expect(raw.frames.slice(pongAt + 1).some((f) => f.type === ResponseType.DATA)).toBe(true);
  });
});

describe('bad frames', () => {
  it.each([
    ['a bad version', Buffer.from('020100000000000700000000', 'hex'), 'BAD_VERSION'],
    ['reserved flags set', Buffer.from('010100800000000700000000', 'hex'), 'MALFORMED_FRAME'],
    ['a response type', Buffer.from('018100000000000700000000', 'hex'), 'MALFORMED_FRAME'],
    // 0x80 is the first response type (the high bit), though none is assigned to it.
    ['type 0x80', Buffer.from('018000000000000700000000', 'hex'), 'MALFORMED_FRAME'],
  ])(
    '%s gets an ERROR frame, then the connection closes; others are still served',
    async (_, bytes, name) => {
      const s = await start();
      const other = await s.client();
      const raw = await rawConnect(s.port, pki);
      raw.socket.write(bytes);
      const error = await raw.waitFor((f) => f.type === ResponseType.ERROR);
      expect(errorOf(error)).toEqual({ name, id: 7 });
      await raw.closed;
      await other.ping();
      const line = await s.logs.waitFor((l) => l.reason === 'protocol-error');
      expect(line.msg).toBe('connection closed');
      expect(
        await metricValue(s.registry, 'netlab_tls_protocol_errors_total', `code="${name}"`),
      ).toBe(1);
    },
  );

  it('refuses a frame over MAX_FRAME_BYTES from its header and closes before reading the payload', async () => {
    const s = await start({ MAX_FRAME_BYTES: '1024' });
    const raw = await rawConnect(s.port, pki);
    const header = encodeFrame(RequestType.ECHO, 3, Buffer.alloc(0));
    header.writeUInt32BE(2 ** 31, 8);
    raw.socket.write(header);
    expect(errorOf(await raw.waitFor((f) => f.type === ResponseType.ERROR))).toEqual({
      name: 'FRAME_TOO_LARGE',
      id: 3,
    });
    await raw.closed;
  });

  it('answers an unknown type or a wrong payload with an ERROR frame and keeps the connection', async () => {
    const s = await start();
    const raw = await rawConnect(s.port, pki);
    raw.socket.write(
      Buffer.concat([
        encodeFrame(0x42, 1, Buffer.from('skipped')),
        encodeFrame(RequestType.PING, 2, Buffer.from('x')),
        encodeFrame(RequestType.STREAM, 3, Buffer.alloc(3)),
        encodeFrame(RequestType.BYE, 4, Buffer.from('x')),
        encodeFrame(RequestType.INFO, 5, Buffer.from('x')),
        encodeFrame(RequestType.TIME, 6, Buffer.from('x')),
        encodeFrame(RequestType.PING, 7),
      ]),
    );
    await raw.waitFor((f) => f.type === ResponseType.PONG);
    expect(raw.frames.map((f) => (f.type === ResponseType.ERROR ? errorOf(f) : f.id))).toEqual([
      { name: 'UNKNOWN_TYPE', id: 1 },
      { name: 'BAD_PAYLOAD', id: 2 },
      { name: 'BAD_PAYLOAD', id: 3 },
      { name: 'BAD_PAYLOAD', id: 4 },
      { name: 'BAD_PAYLOAD', id: 5 },
      { name: 'BAD_PAYLOAD', id: 6 },
      7,
    ]);
    expect(raw.socket.readyState).toBe('open');
  });

  it('refuses a STREAM over MAX_STREAM_BYTES', async () => {
    const s = await start({ MAX_STREAM_BYTES: '1000' });
    const client = await s.client();
    await expect(client.stream(1001)).rejects.toMatchObject({
      code: 'NETLAB_ERR_STREAM_TOO_LARGE',
    });
    expect(await client.stream(1000)).toBe(1000);
  });

  it('refuses a request past MAX_IN_FLIGHT and goes on serving the connection', async () => {
    const s = await start({ MAX_IN_FLIGHT: '2' });
    const raw = await rawConnect(s.port, pki);
    raw.socket.write(
      Buffer.concat([
        encodeFrame(RequestType.STREAM, 1, encodeU64(2 ** 33)),
        encodeFrame(RequestType.STREAM, 2, encodeU64(2 ** 33)),
        encodeFrame(RequestType.PING, 3),
      ]),
    );
    const error = await raw.waitFor((f) => f.type === ResponseType.ERROR);
    expect(errorOf(error)).toEqual({ name: 'TOO_MANY_IN_FLIGHT', id: 3 });
    raw.socket.destroy();
  });
});

describe('flow control', () => {
  /** Waits until the server has stopped writing (two equal readings in a row); resolves with the bytes sent. */
  async function writingStopped(s: Started): Promise<number> {
    let last = -1;
    await waitUntil(
      async () => {
        const now = await metricValue(s.registry, 'netlab_tls_bytes_sent_total');
        const settled = now > 0 && now === last;
        last = now;
        return settled;
      },
      { timeoutMs: 15_000, intervalMs: 300, what: 'the server to stop writing' },
    );
    return last;
  }

  it('a client that asks for a huge STREAM and never reads costs the server a bounded buffer', async () => {
    const s = await start({ MAX_BUFFERED_BYTES: String(256 * 1024) });
    const raw = await rawConnect(s.port, pki);
    raw.socket.pause(); // never read
    raw.socket.write(encodeFrame(RequestType.STREAM, 1, encodeU64(2 ** 33)));
    const sent = await writingStopped(s);
    // Kernel buffers on both sides plus MAX_BUFFERED_BYTES, not a terabyte.
    expect(sent).toBeLessThan(48 * 1024 * 1024);
    raw.socket.destroy();
  });

  it('clients that pipeline INFOs and never read cost MAX_BUFFERED_BYTES each (plus one answer), and get every answer once they read', async () => {
    const limit = 64 * 1024;
    const s = await start({ MAX_BUFFERED_BYTES: String(limit) });
    // 1.2 MB of requests, about 16 times that of answers: more than the
    // kernel buffers on both sides take.
    const requests = 100_000;
    const clients = await Promise.all([1, 2, 3].map(() => rawConnect(s.port, pki)));
    for (const raw of clients) {
      raw.socket.pause(); // not reading, for now
      raw.socket.write(
        Buffer.concat(
          Array.from({ length: requests }, (_, i) => encodeFrame(RequestType.INFO, i + 1)),
        ),
      );
    }
    await writingStopped(s);
    // Every connection is full (the kernel's buffers too), and none holds
    // more than the limit and the one INFO answer (under 1 KiB) that crossed it.
    const buffered = await metricValue(s.registry, 'netlab_tls_output_buffered_bytes');
    expect(buffered).toBeGreaterThanOrEqual(clients.length * limit);
    expect(buffered).toBeLessThan(clients.length * (limit + 1024));
    // Reading again, each client gets all its answers, in order.
    for (const raw of clients) raw.socket.resume();
    for (const raw of clients) {
      await raw.waitFor((f) => f.id === requests);
      const ids = raw.frames.map((f) => f.id);
      expect(ids).toEqual(Array.from({ length: requests }, (_, i) => i + 1));
      expect(raw.frames.every((f) => f.type === ResponseType.INFO_REPLY)).toBe(true);
      raw.socket.destroy();
    }
  });
});

describe('TLS', () => {
  it('a plain TCP client fails the handshake; the server goes on serving', async () => {
    const s = await start();
    const plain = net.connect({ port: s.port, host: '127.0.0.1' });
    plain.on('error', () => {});
    plain.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((resolve) => plain.once('close', resolve));
    expect(
      await metricValue(s.registry, 'netlab_tls_handshake_failures_total', 'reason="not_tls"'),
    ).toBe(1);
    await (await s.client()).ping();
  });

  it('cuts a client that does not finish the handshake within HANDSHAKE_TIMEOUT_MS', async () => {
    const s = await start({ TLS_HANDSHAKE_TIMEOUT_MS: '300' });
    const silent = net.connect({ port: s.port, host: '127.0.0.1' });
    silent.on('error', () => {});
    await new Promise((resolve) => silent.once('close', resolve));
    expect(
      await metricValue(s.registry, 'netlab_tls_handshake_failures_total', 'reason="timeout"'),
    ).toBe(1);
  });

  it('refuses a client whose ALPN list lacks netlab/1, and accepts one that offers none', async () => {
    const s = await start();
    const wrong = tls.connect({
      port: s.port,
      host: '127.0.0.1',
      ca: pki.ca.cert,
      ALPNProtocols: ['http/1.1'],
    });
    const [err] = (await once(wrong, 'error').catch((e: unknown) => [e])) as [
      NodeJS.ErrnoException,
    ];
    expect(err.code).toBe('ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL');
    const refused = await s.logs.waitFor((l) => l.msg === 'TLS handshake failed');
    expect(refused).toMatchObject({ level: 'info', reason: 'no_alpn', remoteAddress: '127.0.0.1' });
    expect(
      await metricValue(s.registry, 'netlab_tls_handshake_failures_total', 'reason="no_alpn"'),
    ).toBe(1);
    const raw = await rawConnect(s.port, pki, { ALPNProtocols: [] });
    raw.socket.write(encodeFrame(RequestType.INFO, 1));
    const info = JSON.parse((await raw.waitFor((f) => f.id === 1)).payload.toString());
    expect(info.alpn).toBe(false);
    raw.socket.destroy();
  });

  it('resumes a TLS session from a ticket on the next connection', async () => {
    const s = await start();
    const first = await s.client();
    await first.ping();
    await waitUntil(() => first.session);
    const second = await s.client({ session: first.session! });
    expect(second.socket.isSessionReused()).toBe(true);
    expect((await second.info()).resumed).toBe(true);
  });

  it('cuts a connection idle for IDLE_TIMEOUT_MS with an IDLE_TIMEOUT error frame', async () => {
    const s = await start({ IDLE_TIMEOUT_MS: '200' });
    const raw = await rawConnect(s.port, pki);
    const error = await raw.waitFor((f) => f.type === ResponseType.ERROR);
    expect(errorOf(error)).toEqual({ name: 'IDLE_TIMEOUT', id: 0 });
    await raw.closed;
    await s.logs.waitFor((l) => l.reason === 'idle');
  });

  it('closes a connection past MAX_CONNECTIONS at once and counts it', async () => {
    const s = await start({ MAX_CONNECTIONS: '1' });
    const first = await s.client();
    const second = tls.connect({
      port: s.port,
      host: '127.0.0.1',
      ca: pki.ca.cert,
      ALPNProtocols: ['netlab/1'],
    });
    second.on('error', () => {});
    await new Promise((resolve) => second.once('close', resolve));
    expect(await metricValue(s.registry, 'netlab_tls_connections_rejected_total')).toBe(1);
    await first.ping();
  });
});

describe('mTLS', () => {
  it('required: a client without a certificate, or with one of another CA, gets no application data', async () => {
    const s = await start({}, 'required');
    for (const opts of [{}, pki.stranger]) {
      // TLS 1.3: the client may see its handshake succeed before the server
      // rejects its certificate, so assert on the data, not the handshake.
      const attempt = s
        .client(opts)
        .then((c) => c.ping())
        .then(
          () => 'answered',
          (err: NodeJS.ErrnoException) => err.code,
        );
      expect(await attempt).not.toBe('answered');
    }
    await waitUntil(async () => {
      const none = await metricValue(
        s.registry,
        'netlab_tls_handshake_failures_total',
        'reason="no_certificate"',
      );
      const bad = await metricValue(
        s.registry,
        'netlab_tls_handshake_failures_total',
        'reason="bad_certificate"',
      );
      return none === 1 && bad === 1;
    });
    const good = await s.client(pki.client);
    const info = await good.info();
    expect(info.authorized).toBe(true);
    expect(info.clientCertificate).toMatchObject({
      subject: 'CN=test-client',
      issuer: 'CN=netlab demo CA',
    });
    expect(info.clientCertificate?.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it('optional: a client without a certificate gets in and INFO says it is not authorized', async () => {
    const s = await start({}, 'optional');
    const anonymous = await s.client();
    expect(await anonymous.info()).toMatchObject({ clientCertificate: null });
    const stranger = await s.client(pki.stranger);
    const info = await stranger.info();
    expect(info).toMatchObject({
      authorized: false,
      authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      clientCertificate: { subject: 'CN=stranger' },
    });
    const good = await s.client(pki.client);
    expect((await good.info()).authorized).toBe(true);
  });
});

describe('shutdown', () => {
  it('finishes an in-flight STREAM, refuses new requests with SHUTTING_DOWN, then closes', async () => {
    const s = await start({ MAX_BUFFERED_BYTES: String(64 * 1024) });
    const raw = await rawConnect(s.port, pki);
    raw.socket.pause();
    raw.socket.write(encodeFrame(RequestType.STREAM, 1, encodeU64(8 * 1024 * 1024)));
    await waitUntil(async () => (await metricValue(s.registry, 'netlab_tls_bytes_sent_total')) > 0);
    const closing = s.server.close({ timeoutMs: 10_000 });
    raw.socket.write(encodeFrame(RequestType.PING, 2));
    raw.socket.resume();
    const refused = await raw.waitFor((f) => f.type === ResponseType.ERROR);
    expect(errorOf(refused)).toEqual({ name: 'SHUTTING_DOWN', id: 2 });
    const end = await raw.waitFor((f) => f.type === ResponseType.STREAM_END);
    expect(end.id).toBe(1);
    await raw.closed;
    await closing;
    started = started.filter((x) => x !== s);
    expect(s.logs.find((l) => l.msg === 'connection closed')[0]?.reason).toBe('shutdown');
  });
});

describe('reading, half-close and counters', () => {
  it('a client that pipelines without reading sees the server stop reading its requests', async () => {
    const s = await start({ MAX_BUFFERED_BYTES: String(64 * 1024) });
    const raw = await rawConnect(s.port, pki);
    raw.socket.pause(); // never read
    // 4.8 MB of INFO requests: their answers (~50 times that) fill the
    // output and the kernel's buffers long before the requests are all read.
    const requests = 400_000;
    raw.socket.write(
      Buffer.concat(
        Array.from({ length: requests }, (_, i) => encodeFrame(RequestType.INFO, i + 1)),
      ),
    );
    let last = -1;
    await waitUntil(
      async () => {
        const now = await metricValue(s.registry, 'netlab_tls_bytes_received_total');
        const settled = now > 0 && now === last;
        last = now;
        return settled;
      },
      { timeoutMs: 15_000, intervalMs: 300, what: 'the server to stop reading' },
    );
    // Read: the requests answered (64 KiB and kernel buffers of answers) and
    // a read or two more; not the 4.8 MB sent.
    // (The rest waits in the kernel's buffers and the client's queue; how it
    // splits between them depends on the host's TCP autotuning, so only the
    // server's side is asserted.)
    expect(last).toBeLessThan(1024 * 1024);
    raw.socket.destroy();
  });

  it('after a half-close every pipelined request still gets its answer, then the server closes', async () => {
    const s = await start({ MAX_BUFFERED_BYTES: String(64 * 1024) });
    const raw = await rawConnect(s.port, pki);
    raw.socket.pause();
    // 5,000 INFOs (~3 MB of answers, far over the output limit), then FIN.
    const requests = 5000;
    raw.socket.end(
      Buffer.concat(
        Array.from({ length: requests }, (_, i) => encodeFrame(RequestType.INFO, i + 1)),
      ),
    );
    await waitUntil(async () => (await metricValue(s.registry, 'netlab_tls_bytes_sent_total')) > 0);
    raw.socket.resume();
    await raw.closed;
    expect(raw.frames.map((f) => f.id)).toEqual(Array.from({ length: requests }, (_, i) => i + 1));
    expect(raw.frames.every((f) => f.type === ResponseType.INFO_REPLY)).toBe(true);
    const line = await s.logs.waitFor((l) => l.msg === 'connection closed');
    expect(line).toMatchObject({ reason: 'end', framesIn: requests, framesOut: requests });
  });

  it('the active-connections gauge returns to 0, however connections end', async () => {
    const s = await start();
    const active = () => metricValue(s.registry, 'netlab_tls_connections_active');
    const byBye = await s.client();
    const byReset = await s.client();
    const byError = await rawConnect(s.port, pki);
    await byBye.ping();
    await waitUntil(async () => (await active()) === 3);
    await byBye.bye();
    byReset.close();
    byError.socket.write(Buffer.from('020100000000000700000000', 'hex'));
    await byError.closed;
    await waitUntil(async () => s.server.connections === 0);
    await waitUntil(async () => s.logs.find((l) => l.msg === 'connection closed').length === 3);
    expect(await active()).toBe(0);
    expect(await metricValue(s.registry, 'netlab_tls_connections_total')).toBe(3);
  });

  it('byte counters never go down when connections close', async () => {
    const s = await start();
    const sent = () => metricValue(s.registry, 'netlab_tls_bytes_sent_total');
    const received = () => metricValue(s.registry, 'netlab_tls_bytes_received_total');
    const client = await s.client();
    await client.echo(Buffer.alloc(10_000));
    const before = [await received(), await sent()];
    // 10,000 bytes and a header each way, plus nothing else.
    expect(before).toEqual([10_012, 10_012]);
    client.close();
    await s.logs.waitFor((l) => l.msg === 'connection closed');
    expect([await received(), await sent()]).toEqual(before);
    // And a second connection adds to them.
    const second = await s.client();
    await second.ping();
    expect([await received(), await sent()]).toEqual([10_024, 10_024]);
  });

  it('the "connection closed" line carries clientCert: the subject, or null without one', async () => {
    const s = await start({}, 'optional');
    const withCert = await s.client(pki.client);
    await withCert.bye();
    const anonymous = await s.client();
    await anonymous.bye();
    await waitUntil(() => s.logs.find((l) => l.msg === 'connection closed').length === 2);
    const lines = s.logs.find((l) => l.msg === 'connection closed');
    expect(lines.map((l) => l.clientCert)).toEqual(['CN=test-client', null]);
  });
});
