import { expectConfigRefused, readyz, useApps, waitUntil } from '@netlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FixtureDns, startFixtureDns } from './fixture-dns.js';
import { MAIN, request } from './helpers.js';

const start = useApps(MAIN);

let dns: FixtureDns;
beforeAll(async () => {
  dns = await startFixtureDns();
});
afterAll(() => dns.close());

describe('the dns-resolver-api process', () => {
  it('drains on SIGTERM: a request waiting for its DNS answer gets it, with Connection: close; exit 0', async () => {
    const app = await start({
      DNS_SERVERS: dns.server,
      DNS_DEMO_ZONE: 'false',
      DNS_TIMEOUT_MS: '20000',
      SHUTDOWN_TIMEOUT_MS: '10000',
    });
    dns.hold();
    try {
      const before = dns.queries.length;
      const waiting = request(
        `http://127.0.0.1:${app.port}/resolve?name=example.netlab.test&type=MX`,
      );
      await waitUntil(() => dns.queries.length > before, { what: 'the query at the fixture' });
      app.child.kill('SIGTERM');
      await app.logs.waitFor((l) => l.msg === 'shutting down: draining');
      expect(await readyz(app)).toBe(503);
      dns.release();
      const res = await waiting;
      expect(res.status).toBe(200);
      expect(res.json.Answer[0].data).toBe('10 mail.netlab.test.');
      expect(res.headers.connection).toBe('close');
    } finally {
      dns.release();
    }
    expect((await app.exited).code).toBe(0);
    expect(app.logs.lines.at(-1)?.msg).toBe('stopped');
  });

  it('cuts a request still waiting for DNS at SHUTDOWN_TIMEOUT_MS, logs it as the shutdown’s cut (503), exits 0', async () => {
    const app = await start({
      DNS_SERVERS: dns.server,
      DNS_DEMO_ZONE: 'false',
      DNS_TIMEOUT_MS: '20000',
      SHUTDOWN_TIMEOUT_MS: '300',
    });
    dns.hold();
    try {
      const before = dns.queries.length;
      const waiting = request(
        `http://127.0.0.1:${app.port}/resolve?name=example.netlab.test&type=TXT`,
      ).catch((err: NodeJS.ErrnoException) => err);
      await waitUntil(() => dns.queries.length > before, { what: 'the query at the fixture' });
      app.child.kill('SIGTERM');
      expect((await app.exited).code).toBe(0);
      expect(await waiting).toBeInstanceOf(Error);
    } finally {
      dns.release();
    }
    expect(app.logs.find((l) => l.msg === 'request')[0]).toMatchObject({
      path: '/resolve?name=example.netlab.test&type=TXT',
      status: 503,
      code: 'NETLAB_ERR_SHUTTING_DOWN',
      reason: 'shutdown',
    });
  });

  it.each([
    [{ PORT: 'abc' }, ['PORT: expected an integer 0-65535, got "abc"']],
    [{ DNS_SERVERS: '127.0.0.1:5353,dns.google' }, ['DNS_SERVERS: expected IP addresses']],
    [
      { CACHE_MAX_ENTRIES: '-1', DNS_TIMEOUT_MS: '2s', LOOKUP_CONCURRENCY: '0' },
      ['DNS_TIMEOUT_MS:', 'CACHE_MAX_ENTRIES:', 'LOOKUP_CONCURRENCY:'],
    ],
  ])('refuses bad config %o with one line per variable and exit 78', async (env, expected) => {
    await expectConfigRefused(MAIN, env, expected);
  });
});
