import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { LogCapture, waitUntil } from '@netlab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
// dist, not src: the admin server runs its thread from dist/admin-thread.js.
import {
  type AdminServer,
  createAdminServer,
  createLogger,
  createRegistry,
} from '../dist/index.js';

let admin: AdminServer | undefined;
afterEach(async () => {
  await admin?.close();
  admin = undefined;
});

async function start(opts: { livenessStallMs: number; thread?: boolean }) {
  const registry = createRegistry('test-app', { defaultMetrics: false });
  const logger = createLogger({ service: 'test-app', version: '0', destination: new LogCapture() });
  admin = createAdminServer({ metrics: registry, logger, ...opts });
  admin.setReadiness('ready');
  const { port } = await admin.listen(0, '127.0.0.1');
  return port;
}

/**
 * `curl` run synchronously: this test's own event loop, which is the
 * admin server's main thread, stays blocked for as long as it runs. Gives up
 * after 3 s (an in-loop admin server never answers it).
 */
function curlBlocking(port: number, path: string): { status: number; body: string } {
  const out = execFileSync(
    'curl',
    ['-s', '--max-time', '3', '-w', '\\n%{http_code}', `http://127.0.0.1:${port}${path}`],
    { encoding: 'utf8' },
  ).split('\n');
  return { status: Number(out.pop()), body: out.join('\n').trim() };
}

/** Keeps the main event loop busy for `ms`, as an endless loop or a long sync call would. */
function blockFor(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // spin
  }
}

describe('the admin server on its own thread', () => {
  it('answers /livez and /readyz while the main event loop is blocked', async () => {
    const port = await start({ livenessStallMs: 60_000 });
    blockFor(200);
    expect(curlBlocking(port, '/livez')).toEqual({ status: 200, body: '{"status":"ok"}' });
    expect(curlBlocking(port, '/readyz')).toEqual({ status: 200, body: '{"status":"ready"}' });
  });

  it('fails /livez with 503 once the main loop has not turned for LIVENESS_STALL_MS, and recovers', async () => {
    const port = await start({ livenessStallMs: 300 });
    await waitUntil(() => curlBlocking(port, '/livez').status === 200, { what: 'a live answer' });
    blockFor(900);
    const stuck = curlBlocking(port, '/livez');
    expect(stuck.status).toBe(503);
    expect(JSON.parse(stuck.body)).toMatchObject({ status: 'stalled' });
    expect(JSON.parse(stuck.body).stalledMs).toBeGreaterThanOrEqual(300);
    // The loop turns again: the heartbeat moves, /livez is 200 again.
    await waitUntil(async () => (await fetch(`http://127.0.0.1:${port}/livez`)).status === 200, {
      what: '/livez to recover',
    });
  });

  it('with LIVENESS_STALL_MS=0 /livez never fails', async () => {
    const port = await start({ livenessStallMs: 0 });
    blockFor(300);
    expect(curlBlocking(port, '/livez').status).toBe(200);
  });

  it('reports readiness changes at once', async () => {
    const port = await start({ livenessStallMs: 0 });
    admin!.setReadiness('draining');
    expect(curlBlocking(port, '/readyz')).toEqual({ status: 503, body: '{"status":"draining"}' });
  });

  it('answers a 100 KB path with 431 and a JSON error code, and keeps serving', async () => {
    const port = await start({ livenessStallMs: 0 });
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      const chunks: Buffer[] = [];
      socket.on('data', (d: Buffer) => chunks.push(d));
      socket.on('error', reject);
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
      socket.write(`GET /${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4))).toMatchObject({
      code: 'NETLAB_ERR_HEADERS_TOO_LARGE',
    });
    expect((await fetch(`http://127.0.0.1:${port}/livez`)).status).toBe(200);
  });
});
