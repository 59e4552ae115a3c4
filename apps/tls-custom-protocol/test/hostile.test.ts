import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { metricValue, waitUntil } from '@netlab/testkit';
import { createDemoPki } from '@netlab/tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ALPN, encodeFrame, RequestType, ResponseType } from '../src/protocol.js';
import { errorOf, rawConnect, type Started, startServer } from './helpers.js';
import { makePki, preparedTls, type TestPki } from './pki.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await makePki();
});

const started: Started[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.close();
});
async function start(env: Record<string, string> = {}, clientAuth?: 'required') {
  const s = await startServer(pki, env, preparedTls(pki, clientAuth));
  started.push(s);
  return s;
}

/** Resolves with `promise`, or fails saying `what` did not happen within `ms` (a deadline, not a sleep). */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const renegotiations = (s: Started) =>
  metricValue(s.registry, 'netlab_tls_connections_closed_total', 'reason="renegotiation"');

describe('client-initiated renegotiation (testssl: "Secure Client-Initiated Renegotiation")', () => {
  it('closes a TLS 1.2 connection that asks to renegotiate, logs and counts it', async () => {
    const s = await start();
    const raw = await rawConnect(s.port, pki, { maxVersion: 'TLSv1.2' });
    raw.socket.write(encodeFrame(RequestType.PING, 1));
    await raw.waitFor((f) => f.id === 1);
    let renegotiated = false;
    // Node calls back only when a renegotiation completes.
    expect(
      raw.socket.renegotiate({}, (err) => {
        renegotiated = err == null;
      }),
    ).toBe(true);
    await within(raw.closed, 5000, 'the server to close the connection');
    expect(renegotiated).toBe(false);
    const line = await s.logs.waitFor((l) => l.msg === 'TLS renegotiation refused');
    expect(line).toMatchObject({
      level: 'info',
      remoteAddress: '127.0.0.1',
      remotePort: raw.socket.localPort,
      reason: 'renegotiation',
      err: 'ERR_TLS_RENEGOTIATION_DISABLED',
    });
    const closed = await s.logs.waitFor((l) => l.msg === 'connection closed');
    expect(closed.reason).toBe('renegotiation');
    expect(await renegotiations(s)).toBe(1);
    // The server goes on serving others.
    await (await s.client()).ping();
  });

  it('openssl s_client -tls1_2 sending R is cut: no renegotiation completes', async () => {
    const s = await start();
    // R asks s_client to renegotiate; the server must close instead of
    // answering with a new handshake.
    const child = spawn(
      'openssl',
      ['s_client', '-tls1_2', '-alpn', 'netlab/1', '-connect', `127.0.0.1:${s.port}`],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await waitUntil(() => out.includes('Verify return code'), { what: () => `s_client: ${out}` });
    child.stdin.write('R\n');
    const exited = once(child, 'exit');
    const timer = setTimeout(() => child.kill(), 5000);
    const [code] = await exited;
    clearTimeout(timer);
    expect(out).toContain('RENEGOTIATING');
    // s_client exits on its own when the server closes (killed: it did not).
    expect(code).toBe(1);
    expect(await renegotiations(s)).toBe(1);
    expect(s.logs.find((l) => l.msg === 'TLS renegotiation refused')).toHaveLength(1);
  });
});

describe('slow clients', () => {
  it('cuts a client dripping a frame slower than FRAME_TIMEOUT_MS: FRAME_TIMEOUT, close, log, count', async () => {
    const s = await start({ FRAME_TIMEOUT_MS: '300', IDLE_TIMEOUT_MS: '60000' });
    const raw = await rawConnect(s.port, pki);
    const frame = encodeFrame(RequestType.ECHO, 5, Buffer.alloc(100));
    // One byte every 50 ms: never idle, never a whole frame.
    let sent = 0;
    const drip = setInterval(() => {
      if (sent < frame.length && !raw.socket.destroyed)
        raw.socket.write(frame.subarray(sent, ++sent));
    }, 50);
    try {
      const error = await within(
        raw.waitFor((f) => f.type === ResponseType.ERROR),
        5000,
        'a FRAME_TIMEOUT error',
      );
      expect(errorOf(error)).toEqual({ name: 'FRAME_TIMEOUT', id: 0 });
      await within(raw.closed, 5000, 'the server to close the connection');
    } finally {
      clearInterval(drip);
    }
    expect(sent).toBeLessThan(frame.length);
    const line = await s.logs.waitFor((l) => l.msg === 'connection closed');
    expect(line).toMatchObject({
      level: 'info',
      reason: 'frame-timeout',
      remoteAddress: '127.0.0.1',
    });
    expect(
      await metricValue(
        s.registry,
        'netlab_tls_connections_closed_total',
        'reason="frame-timeout"',
      ),
    ).toBe(1);
    expect(
      await metricValue(s.registry, 'netlab_tls_protocol_errors_total', 'code="FRAME_TIMEOUT"'),
    ).toBe(1);
  });

  it('the deadline is per frame: whole frames sent slowly, longer than FRAME_TIMEOUT_MS in all, are all answered', async () => {
    const s = await start({ FRAME_TIMEOUT_MS: '300' });
    const raw = await rawConnect(s.port, pki);
    // Each PING split in two halves 100 ms apart, 8 of them, and a pause: 1.4 s in all.
    for (let id = 1; id <= 8; id++) {
      const ping = encodeFrame(RequestType.PING, id);
      raw.socket.write(ping.subarray(0, 6));
      await new Promise((r) => setTimeout(r, 100));
      raw.socket.write(ping.subarray(6));
      await raw.waitFor((f) => f.id === id);
      // Between whole frames no deadline runs (that is IDLE_TIMEOUT_MS's job).
      if (id === 4) await new Promise((r) => setTimeout(r, 600));
    }
    expect(raw.frames.map((f) => f.type)).toEqual(Array(8).fill(ResponseType.PONG));
    raw.socket.destroy();
  });

  it('a frame that starts in the read completing the one before gets FRAME_TIMEOUT_MS from its own first byte', async () => {
    const s = await start({ FRAME_TIMEOUT_MS: '300', IDLE_TIMEOUT_MS: '60000' });
    const raw = await rawConnect(s.port, pki);
    const a = encodeFrame(RequestType.PING, 1);
    const b = encodeFrame(RequestType.PING, 2);
    raw.socket.write(a.subarray(0, 6));
    await new Promise((r) => setTimeout(r, 200));
    // A completes and B starts in one write; B never completes.
    const bStarted = performance.now();
    raw.socket.write(Buffer.concat([a.subarray(6), b.subarray(0, 6)]));
    const error = await within(
      raw.waitFor((f) => f.type === ResponseType.ERROR),
      5000,
      'a FRAME_TIMEOUT error',
    );
    const waited = performance.now() - bStarted;
    expect(errorOf(error)).toEqual({ name: 'FRAME_TIMEOUT', id: 0 });
    expect(raw.frames[0]).toMatchObject({ type: ResponseType.PONG, id: 1 });
    // B's deadline runs from B's first byte, not from A's 200 ms earlier
    // (timers may fire a millisecond early).
    expect(waited).toBeGreaterThanOrEqual(298);
  });

  it('a TCP connect then FIN before the handshake (a health check) is closed at once, freeing its slot', async () => {
    const s = await start({ MAX_CONNECTIONS: '1', TLS_HANDSHAKE_TIMEOUT_MS: '10000' });
    const check = net.connect({ port: s.port, host: '127.0.0.1' });
    check.on('error', () => {});
    await once(check, 'connect');
    check.end();
    await within(once(check, 'close'), 3000, 'the server to close a connection that sent FIN');
    // The slot is free: a real client gets in and is served.
    await (await s.client()).ping();
  });
});

describe('mTLS refusals are logged at info with the real reason and the peer', () => {
  it.each([
    ['a certificate of a foreign CA', 'stranger', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
    ['an expired certificate', 'expired', 'CERT_HAS_EXPIRED'],
  ])('%s', async (_, which, authorizationError) => {
    // An expired client certificate from a CA the server trusts (the whole
    // demo PKI made with days: -1 is past its notAfter).
    const expired = await createDemoPki({ days: -1, clientName: 'expired' });
    const prepared = preparedTls(pki, 'required');
    prepared.clientAuth = { ca: [pki.ca.cert, expired.ca.cert].join('\n'), required: true };
    const s = await startServer(pki, {}, prepared);
    started.push(s);
    const cert = which === 'expired' ? expired.client : pki.stranger;
    const attempt = s
      .client(cert)
      .then((c) => c.ping())
      .then(
        () => 'answered',
        () => 'refused',
      );
    expect(await attempt).toBe('refused');
    const line = await s.logs.waitFor((l) => l.msg === 'TLS handshake failed');
    expect(line).toMatchObject({
      level: 'info',
      reason: 'bad_certificate',
      remoteAddress: '127.0.0.1',
      authorizationError,
    });
    expect(line.remotePort).toBeGreaterThan(0);
    expect(
      await metricValue(
        s.registry,
        'netlab_tls_handshake_failures_total',
        'reason="bad_certificate"',
      ),
    ).toBe(1);
  });
});

describe('required client certificates and resumption', () => {
  it('a refused client gets no session ticket to resume with, over TLS 1.2 or 1.3', async () => {
    const s = await start({}, 'required');
    for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
      for (const cert of [{}, pki.stranger]) {
        const socket = tls.connect({
          port: s.port,
          host: '127.0.0.1',
          ca: pki.ca.cert,
          ALPNProtocols: [ALPN],
          maxVersion,
          ...cert,
        });
        socket.on('error', () => {});
        let tickets = 0;
        let data = 0;
        socket.on('session', () => tickets++);
        socket.on('secureConnect', () => socket.write(encodeFrame(RequestType.PING, 1)));
        socket.on('data', (chunk: Buffer) => {
          data += chunk.length;
        });
        await within(
          new Promise((resolve) => socket.once('close', resolve)),
          5000,
          'the server to close the connection',
        );
        // The refusal comes before the server's last flight carries a
        // ticket: nothing to resume with, so resumption cannot bypass it.
        expect({ maxVersion, tickets, data }).toEqual({ maxVersion, tickets: 0, data: 0 });
      }
    }
    const failures = s.logs.find((l) => l.msg === 'TLS handshake failed').map((l) => l.reason);
    expect(failures).toEqual([
      'no_certificate',
      'bad_certificate',
      'no_certificate',
      'bad_certificate',
    ]);
  });
});
