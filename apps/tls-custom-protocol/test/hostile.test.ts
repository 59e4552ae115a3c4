import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { metricValue, waitUntil } from '@netlab/testkit';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame, RequestType } from '../src/protocol.js';
import { rawConnect, type Started, startServer } from './helpers.js';
import { makePki, preparedTls, type TestPki } from './pki.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await makePki();
});

const started: Started[] = [];
afterEach(async () => {
  for (const s of started.splice(0)) await s.close();
});
async function start(env: Record<string, string> = {}) {
  const s = await startServer(pki, env, preparedTls(pki));
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
