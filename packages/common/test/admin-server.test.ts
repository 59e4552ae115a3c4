import { LogCapture } from '@netlab/testkit';
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

  it('HEAD works like GET without a body', async () => {
    const get = await start();
    const res = await get('/readyz', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });

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
