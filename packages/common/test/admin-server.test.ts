import { once } from 'node:events';
import net from 'node:net';
import { LogCapture, waitUntil } from '@netlab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AdminRoutes,
  type AdminServer,
  Counter,
  createAdminServer,
  createLogger,
  createRegistry,
  type Readiness,
} from '../dist/index.js';

let admin: AdminServer | undefined;
afterEach(async () => {
  await admin?.close();
  admin = undefined;
});

// dist, not src: the admin server runs its thread from dist/admin-thread.js.
async function start(
  readiness: () => Readiness = () => 'ready',
  routes?: () => AdminRoutes | undefined,
  logs = new LogCapture(),
) {
  const registry = createRegistry('test-app');
  new Counter({ name: 'netlab_test_things_total', help: 'things', registers: [registry] }).inc(3);
  const logger = createLogger({ service: 'test-app', version: '0', destination: logs });
  admin = createAdminServer({ metrics: registry, logger, routes });
  admin.setReadiness(readiness());
  const { port } = await admin.listen(0, '127.0.0.1');
  return (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${port}${path}`, init);
}

describe('admin server', () => {
  it.each(['/livez', '/healthz'])('%s answers 200 while the process is alive', async (path) => {
    const get = await start(() => 'starting');
    const res = await get(path);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it.each([
    ['starting', 503],
    ['ready', 200],
    ['draining', 503],
  ] as const)('/readyz is %s → %i', async (state, status) => {
    const get = await start(() => state);
    const res = await get('/readyz');
    expect(res.status).toBe(status);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ status: state });
  });

  it('/metrics serves Prometheus text with netlab_ names, default process metrics included', async () => {
    const get = await start();
    const res = await get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('netlab_test_things_total{service="test-app"} 3');
    expect(text).toMatch(/^netlab_process_cpu_user_seconds_total\{service="test-app"\} /m);
    const names = text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(/[{ ]/, 1)[0]);
    expect(names.every((n) => n?.startsWith('netlab_'))).toBe(true);
  });

  it.each(['/livez', '/readyz', '/metrics', '/nope'])(
    'HEAD %s answers like GET: same status, type and length, no body on the wire',
    async (path) => {
      const get = await start();
      const full = await get(path);
      const head = await get(path, { method: 'HEAD' });
      expect(head.status).toBe(full.status);
      expect(head.headers.get('content-type')).toBe(full.headers.get('content-type'));
      // /metrics' process metrics change between two scrapes; only its length must be there.
      if (path === '/metrics')
        expect(Number(head.headers.get('content-length'))).toBeGreaterThan(0);
      else expect(head.headers.get('content-length')).toBe(full.headers.get('content-length'));
      // Pipelined behind the HEAD, the next response starts right after its
      // blank line. (Node drops a body written to a HEAD response; this holds
      // whatever writes it, fetch would hide a stray body.)
      const { port } = admin!.address()!;
      const socket = net.connect({ port, host: '127.0.0.1' });
      const chunks: Buffer[] = [];
      socket.on('data', (d: Buffer) => chunks.push(d));
      socket.write(
        `HEAD ${path} HTTP/1.1\r\nHost: x\r\n\r\nGET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      );
      await once(socket, 'close');
      const wire = Buffer.concat(chunks).toString('latin1');
      expect(wire).toMatch(
        /^HTTP\/1\.1 \d{3} [^\r]*\r\n(?:[^\r\n]+\r\n)+\r\nHTTP\/1\.1 200 OK\r\n/,
      );
    },
  );

  it('unknown paths get 404 and other methods 405 with Allow', async () => {
    const get = await start();
    const missing = await get('/nope');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'NETLAB_ERR_NOT_FOUND' });
    const post = await get('/metrics', { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(await post.json()).toMatchObject({ code: 'NETLAB_ERR_METHOD' });
  });

  it('ignores the query string when routing', async () => {
    const get = await start();
    expect((await get('/livez?verbose=1')).status).toBe(200);
  });

  describe("an app's own routes (Service.adminRoutes)", () => {
    it('answers GET with the JSON the route returns, sync or async, and HEAD without a body', async () => {
      let seen = 0;
      const get = await start(undefined, () => ({
        '/things': () => ({ seen: ++seen }),
        '/later': async () => [1, 2, 3],
      }));
      const res = await get('/things?x=1');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.json()).toEqual({ seen: 1 });
      expect(await (await get('/later')).json()).toEqual([1, 2, 3]);
      const head = await get('/things', { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(await head.text()).toBe('');
      const post = await get('/things', { method: 'POST', body: 'x' });
      expect(post.status).toBe(405);
      expect(post.headers.get('allow')).toBe('GET, HEAD');
    });

    it('is looked up per request: 404 until the service provides it', async () => {
      let routes: AdminRoutes | undefined;
      const get = await start(undefined, () => routes);
      expect((await get('/things')).status).toBe(404);
      routes = { '/things': () => 'now' };
      expect(await (await get('/things')).json()).toBe('now');
    });

    it('never shadows the built-in probes', async () => {
      const get = await start(undefined, () => ({ '/livez': () => 'hijacked' }));
      expect(await (await get('/livez')).json()).toEqual({ status: 'ok' });
    });

    it('turns a route that throws or rejects into 500 with a code, and logs it', async () => {
      const logs = new LogCapture();
      const get = await start(
        undefined,
        () => ({
          '/throws': () => {
            throw new Error('boom');
          },
          '/rejects': () => Promise.reject(new Error('later boom')),
        }),
        logs,
      );
      for (const path of ['/throws', '/rejects']) {
        const res = await get(path);
        expect(res.status).toBe(500);
        expect(await res.json()).toEqual({
          error: 'admin route failed',
          code: 'NETLAB_ERR_ADMIN_ROUTE',
        });
      }
      expect(logs.find((l) => l.msg === 'admin route failed').map((l) => l.path)).toEqual([
        '/throws',
        '/rejects',
      ]);
      expect((await get('/livez')).status).toBe(200);
    });
  });
});

describe('admin server edges', () => {
  it('answers JSON errors a person can read: 404 and 405 carry a message and a code', async () => {
    const get = await start();
    const missing = await get('/nope');
    expect(missing.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await missing.json()).toEqual({
      error: expect.stringMatching(/\w/),
      code: 'NETLAB_ERR_NOT_FOUND',
    });
    const post = await get('/livez', { method: 'DELETE' });
    expect(await post.json()).toEqual({
      error: expect.stringMatching(/\w/),
      code: 'NETLAB_ERR_METHOD',
    });
  });

  it('answers 503 NETLAB_ERR_METRICS, and logs why, when collecting metrics fails', async () => {
    const logs = new LogCapture();
    admin = createAdminServer({
      metrics: {
        contentType: 'text/plain',
        metrics: () => Promise.reject(Object.assign(new Error('gone'), { code: 'E_GONE' })),
      },
      logger: createLogger({ service: 't', version: '0', destination: logs }),
    });
    const { port } = await admin.listen(0, '127.0.0.1');
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      error: expect.stringMatching(/\w/),
      code: 'NETLAB_ERR_METRICS',
    });
    expect(logs.lines).toEqual([
      expect.objectContaining({
        level: 'error',
        msg: 'collecting metrics failed',
        err: expect.objectContaining({ code: 'E_GONE' }),
      }),
    ]);
  });

  it('answers a request that is not HTTP with a JSON 400 and closes', async () => {
    await start();
    const socket = net.connect({ port: admin!.address()!.port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.write('HELLO THERE\r\n\r\n');
    await once(socket, 'close');
    const text = Buffer.concat(chunks).toString();
    expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(text).toMatch(/\r\nConnection: close\r\n/);
    expect(text).toContain('"code":"NETLAB_ERR_BAD_REQUEST"');
  });

  it('refuses request headers over 8 KiB (probes are tiny; Node would take 16) with 431', async () => {
    const get = await start();
    expect((await get('/livez', { headers: { 'x-big': 'a'.repeat(7_000) } })).status).toBe(200);
    const res = await get('/livez', { headers: { 'x-big': 'a'.repeat(10_000) } });
    expect(res.status).toBe(431);
  });

  it('close() stops listening and ends open keep-alive connections; before listen it is a no-op', async () => {
    const logger = createLogger({ service: 't', version: '0', destination: new LogCapture() });
    const idle = createAdminServer({ metrics: createRegistry('t'), logger });
    await idle.close();
    expect(idle.address()).toBeNull();

    await start();
    const { port } = admin!.address()!;
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.write('GET /livez HTTP/1.1\r\nHost: x\r\n\r\n');
    await once(socket, 'data');
    const closed = once(socket, 'close');
    await admin!.close();
    await closed;
    const refused = net.connect({ port, host: '127.0.0.1' });
    const [err] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ECONNREFUSED');
  });
});

/** Everything the server sends on `socket` until it closes, and when it closed (ms after `since`). */
async function untilClose(socket: net.Socket, since = performance.now()) {
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', () => {});
  await once(socket, 'close');
  return { text: Buffer.concat(chunks).toString('latin1'), afterMs: performance.now() - since };
}

/** A raw keep-alive GET /livez: resolves 'served' on its 200, 'closed' when closed without a byte. */
function probe(port: number): Promise<{ socket: net.Socket; outcome: 'served' | 'closed' }> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.on('error', () => {});
  socket.write('GET /livez HTTP/1.1\r\nHost: x\r\n\r\n');
  return new Promise((resolve) => {
    socket.once('data', (d: Buffer) => {
      expect(d.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      resolve({ socket, outcome: 'served' });
    });
    socket.once('close', () => resolve({ socket, outcome: 'closed' }));
  });
}

describe('admin server limits', () => {
  it.each([true, false])(
    'accepts exactly ADMIN_MAX_CONNECTIONS connections, closes the rest on arrival, counts and logs them (thread: %s)',
    async (thread) => {
      const logs = new LogCapture();
      const registry = createRegistry('t', { defaultMetrics: false });
      const logger = createLogger({ service: 't', version: '0', destination: logs });
      admin = createAdminServer({ metrics: registry, logger, registry, maxConnections: 4, thread });
      const { port } = await admin.listen(0, '127.0.0.1');
      const started = performance.now();
      const probes = await Promise.all(Array.from({ length: 7 }, () => probe(port)));
      try {
        const outcomes = probes.map((p) => p.outcome);
        expect(outcomes.filter((o) => o === 'served')).toHaveLength(4);
        expect(outcomes.filter((o) => o === 'closed')).toHaveLength(3);
        // Refused at once, not left waiting for a deadline.
        expect(performance.now() - started).toBeLessThan(3000);
        // Asked on a connection already open: a new one would be refused too.
        const held = probes.find((p) => p.outcome === 'served')!.socket;
        const reply = untilClose(held);
        held.write('GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        expect((await reply).text).toContain(
          'netlab_admin_connections_rejected_total{service="t"} 3',
        );
        const first = await logs.waitFor(
          (l) => l.msg === 'connection rejected: ADMIN_MAX_CONNECTIONS reached',
        );
        expect(first).toMatchObject({ level: 'warn', limit: 4, remoteAddress: '127.0.0.1' });
        // One line, then a summary per interval: the other two are counted, not logged each.
        expect(logs.find((l) => String(l.msg).includes('ADMIN_MAX_CONNECTIONS'))).toHaveLength(1);
        // A slot freed is a slot a new client gets.
        await waitUntil(async () => (await probe(port)).outcome === 'served', {
          what: 'a free slot',
        });
      } finally {
        for (const p of probes) p.socket.destroy();
      }
    },
  );

  it('answers a client that sends no request, or half of one, 408 within its 5 s deadline, and closes an idle keep-alive connection within 7 s', async () => {
    await start();
    const { port } = admin!.address()!;
    const t0 = performance.now();
    const silent = net.connect({ port, host: '127.0.0.1' });
    const half = net.connect({ port, host: '127.0.0.1' });
    half.write('GET /livez HTTP/1.1\r\nHost: x\r\n');
    const idle = net.connect({ port, host: '127.0.0.1' });
    idle.write('GET /livez HTTP/1.1\r\nHost: x\r\n\r\n');
    await once(idle, 'data');
    const [a, b, c] = await Promise.all([
      untilClose(silent, t0),
      untilClose(half, t0),
      untilClose(idle, performance.now()),
    ]);
    for (const { text, afterMs } of [a, b]) {
      expect(text).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
      expect(text).toMatch(/\r\nConnection: close\r\n/);
      expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toEqual({
        error: 'request not received in time',
        code: 'NETLAB_ERR_REQUEST_TIMEOUT',
      });
      // Deadline 5 s, checked every 0.5 s: Node's default check (every 30 s)
      // closed it after 6-30 s. 7.5 s leaves room for a loaded machine.
      expect(afterMs).toBeGreaterThanOrEqual(4900);
      expect(afterMs).toBeLessThan(7500);
    }
    // keepAliveTimeout 5 s, to which Node adds 1 s.
    expect(c.text).toBe('');
    expect(c.afterMs).toBeGreaterThanOrEqual(4900);
    expect(c.afterMs).toBeLessThan(7500);
  }, 40_000);
});
