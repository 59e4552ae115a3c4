import { promises as dnsPromises } from 'node:dns';
import { waitUntil } from '@netlab/testkit';
import { describe, expect, it } from 'vitest';
import type { LookupFn } from '../src/lookup.js';
import { metricValue, request, useFixtureApi } from './helpers.js';

const { api } = useFixtureApi();

describe('GET /lookup (getaddrinfo)', () => {
  it('answers from /etc/hosts, what any program here would connect to', async () => {
    const a = await api();
    const res = await request(`${a.url}/lookup?name=localhost&family=4`);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json).toEqual({
      name: 'localhost',
      addresses: [{ address: '127.0.0.1', family: 4 }],
      source: 'getaddrinfo',
    });
  });

  it('all=true returns every address getaddrinfo gives, in its order', async () => {
    const a = await api();
    const expected = await dnsPromises.lookup('localhost', { all: true });
    const res = await request(`${a.url}/lookup?name=localhost&all=true`);
    expect(res.json.addresses).toEqual(
      expected.map(({ address, family }) => ({ address, family })),
    );
  });

  it('a name with no address: 404', async () => {
    const a = await api();
    // .invalid never resolves (RFC 6761 §6.4); glibc's resolver may still ask
    // the system's servers, so allow the temporary-failure answer too.
    const res = await request(`${a.url}/lookup?name=no-such-name.invalid`);
    expect([404, 502]).toContain(res.status);
    expect(res.json.code).toMatch(/^NETLAB_ERR_(NAME_NOT_FOUND|DNS_FAILURE)$/);
  });

  it("a name getaddrinfo does not find (EAI_NONAME, Node's ENOTFOUND): exactly 404 NETLAB_ERR_NAME_NOT_FOUND", async () => {
    // What the OS resolver says for a name with no address, without asking
    // this host's DNS servers (whose answer for .invalid varies): the error
    // exactly as dns.promises.lookup rejects with it.
    const notFound: LookupFn = async (hostname) => {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
        code: 'ENOTFOUND',
        errno: -3008,
        syscall: 'getaddrinfo',
        hostname,
      });
    };
    const a = await api({}, { lookup: notFound });
    const res = await request(`${a.url}/lookup?name=no-such-name.example`);
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ code: 'NETLAB_ERR_NAME_NOT_FOUND', status: 404 });
  });

  it.each([
    ['name=', 'NETLAB_ERR_BAD_NAME'],
    ['name=a..b', 'NETLAB_ERR_BAD_NAME'],
    ['name=localhost&family=5', 'NETLAB_ERR_BAD_FAMILY'],
    ['name=localhost&all=maybe', 'NETLAB_ERR_BAD_PARAMETER'],
  ])('%s → 400 %s', async (query, code) => {
    const a = await api();
    const res = await request(`${a.url}/lookup?${query}`);
    expect(res.status).toBe(400);
    expect(res.json.code).toBe(code);
  });
});

/**
 * getaddrinfo that waits at a gate before doing the real lookup: a slow
 * system resolver, on demand. Counts how many are inside at once.
 */
function gatedLookup() {
  let open!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  const state = { running: 0, peak: 0 };
  const lookup: LookupFn = async (name, opts) => {
    state.running++;
    state.peak = Math.max(state.peak, state.running);
    try {
      await opened;
      return await dnsPromises.lookup(name, opts);
    } finally {
      state.running--;
    }
  };
  return { lookup, open, state };
}

describe('lookup limits', () => {
  it('runs at most LOOKUP_CONCURRENCY, queues LOOKUP_QUEUE_SIZE, answers the rest 503 at once, and keeps serving /resolve', async () => {
    const gate = gatedLookup();
    const a = await api(
      { LOOKUP_CONCURRENCY: '2', LOOKUP_QUEUE_SIZE: '3' },
      { lookup: gate.lookup },
    );
    const url = `${a.url}/lookup?name=localhost&family=4`;
    const first = Array.from({ length: 5 }, () => request(url));
    await waitUntil(
      async () => (await metricValue(a.registry, 'netlab_dns_lookups_queued')) === 3,
      {
        what: '3 lookups queued',
      },
    );
    // The flood's excess is refused at once, with Retry-After.
    const refused = await Promise.all(Array.from({ length: 4 }, () => request(url)));
    for (const r of refused) {
      expect(r.status).toBe(503);
      expect(r.json.code).toBe('NETLAB_ERR_LOOKUP_BUSY');
      expect(r.headers['retry-after']).toBe('1');
    }
    expect(await metricValue(a.registry, 'netlab_dns_lookups_rejected_total')).toBe(4);
    // The rest of the server does not wait for the thread pool.
    expect((await request(`${a.url}/resolve?name=example.netlab.test`)).status).toBe(200);

    gate.open();
    const answered = await Promise.all(first);
    expect(answered.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(gate.state.peak).toBe(2);
  });

  it('LOOKUP_QUEUE_SIZE=0: one past the concurrency is refused at once', async () => {
    const gate = gatedLookup();
    const a = await api(
      { LOOKUP_CONCURRENCY: '1', LOOKUP_QUEUE_SIZE: '0' },
      { lookup: gate.lookup },
    );
    const url = `${a.url}/lookup?name=localhost`;
    const running = request(url);
    await waitUntil(async () => (await metricValue(a.registry, 'netlab_dns_lookups_active')) === 1);
    expect((await request(url)).status).toBe(503);
    gate.open();
    expect((await running).status).toBe(200);
  });

  it('a client that leaves while queued gives its place up', async () => {
    const gate = gatedLookup();
    const a = await api(
      { LOOKUP_CONCURRENCY: '1', LOOKUP_QUEUE_SIZE: '1' },
      { lookup: gate.lookup },
    );
    const url = `${a.url}/lookup?name=localhost`;
    const running = request(url);
    await waitUntil(async () => (await metricValue(a.registry, 'netlab_dns_lookups_active')) === 1);
    const leaving = new AbortController();
    const left = fetch(url, { signal: leaving.signal }).catch(() => 'aborted');
    await waitUntil(async () => (await metricValue(a.registry, 'netlab_dns_lookups_queued')) === 1);
    leaving.abort();
    expect(await left).toBe('aborted');
    await waitUntil(
      async () => (await metricValue(a.registry, 'netlab_dns_lookups_queued')) === 0,
      {
        what: 'the queue to empty',
      },
    );
    // Its place is free again: the next one queues instead of getting 503.
    const next = request(url);
    await waitUntil(async () => (await metricValue(a.registry, 'netlab_dns_lookups_queued')) === 1);
    gate.open();
    expect((await running).status).toBe(200);
    expect((await next).status).toBe(200);
    await waitUntil(
      () =>
        a.logs.find(
          (l) => l.msg === 'request' && l.path === '/lookup?name=localhost' && l.status === 499,
        ).length === 1,
    );
  });
});
