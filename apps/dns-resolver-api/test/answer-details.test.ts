import type { Answer } from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { Resolution } from '../src/resolution.js';
import { createUpstream } from '../src/upstream.js';
import { soa, startSilentDns } from './fixture-dns.js';
import { metricValue, request, type Started, useFixtureApi } from './helpers.js';

// The details of an answer a client can check: TTLs as they count down,
// RFC 2181's TTL rule, what a failure says and how long it is kept.

const { api, fixture } = useFixtureApi();
const resolve = (a: Started, query: string) => request(`${a.url}/resolve?${query}`);
const a = (name: string, ttl: number): Answer => ({ name, type: 'A', ttl, data: '192.0.2.7' });

describe('TTLs', () => {
  it('a cached answer is told with its TTL counting down, second by second', async () => {
    let now = 5_000_000;
    const app = await api({}, { now: () => now });
    const name = 'countdown.netlab.test';
    fixture().set(name, { rcode: 0, answers: [a(name, 300)], authorities: [] });
    try {
      const ttls: number[] = [];
      const ages: number[] = [];
      for (const step of [0, 1500, 500, 1000, 1000]) {
        now += step;
        const { json, headers } = await resolve(app, `name=${name}`);
        ttls.push((json.Answer as Array<{ TTL: number }>)[0]!.TTL);
        ages.push(json.age as number);
        expect(headers['cache-control']).toBe(`max-age=${ttls.at(-1)}`);
      }
      // Ages are rounded up: 1.5 s and 2.0 s are both 2.
      expect(ages).toEqual([0, 2, 2, 3, 4]);
      expect(ttls).toEqual([300, 298, 298, 297, 296]);
      expect(fixture().count('A', name)).toBe(1);
    } finally {
      fixture().set(name, undefined);
    }
  });

  it('a TTL with its top bit set is 0 (RFC 2181 §8): shown as 0 and not cached', async () => {
    const app = await api();
    const name = 'top-bit.netlab.test';
    fixture().set(name, { rcode: 0, answers: [a(name, 0x80000000)], authorities: [] });
    try {
      const first = await resolve(app, `name=${name}`);
      expect(first.json.Answer).toEqual([{ name, type: 1, TTL: 0, data: '192.0.2.7' }]);
      expect(first.headers['cache-control']).toBe('max-age=0');
      expect((await resolve(app, `name=${name}`)).json.cached).toBe(false);
      expect(fixture().count('A', name)).toBe(2);
      // The largest TTL allowed is kept as it is (and capped at CACHE_MAX_TTL_S for the cache).
      fixture().set(name, { rcode: 0, answers: [a(name, 0x7fffffff)], authorities: [] });
      const top = await resolve(app, `name=${name}`);
      expect((top.json.Answer as Array<{ TTL: number }>)[0]!.TTL).toBe(0x7fffffff);
      expect(top.headers['cache-control']).toBe('max-age=3600');
    } finally {
      fixture().set(name, undefined);
    }
  });

  it("an SOA MINIMUM with its top bit set makes NODATA uncached, whatever the SOA's TTL", async () => {
    const app = await api();
    const name = 'soa-top-bit.netlab.test';
    fixture().set(name, { rcode: 0, answers: [], authorities: [soa(60, 0xffffffff)] });
    try {
      expect((await resolve(app, `name=${name}`)).headers['cache-control']).toBe('max-age=0');
    } finally {
      fixture().set(name, undefined);
    }
  });
});

describe('failures', () => {
  it('a failure is kept no longer than CACHE_MAX_TTL_S, even when CACHE_FAILURE_TTL_S is longer', async () => {
    let now = 7_000_000;
    const app = await api({ CACHE_FAILURE_TTL_S: '30', CACHE_MAX_TTL_S: '2' }, { now: () => now });
    const name = 'failing.netlab.test';
    fixture().set(name, { rcode: 2, answers: [], authorities: [] });
    try {
      expect((await resolve(app, `name=${name}`)).status).toBe(502);
      now += 1999;
      const again = await resolve(app, `name=${name}`);
      expect(again.json).toMatchObject({ code: 'NETLAB_ERR_DNS_SERVFAIL', cached: true });
      expect(fixture().count('A', name)).toBe(1);
      now += 1;
      expect((await resolve(app, `name=${name}`)).json.cached).toBeUndefined();
      expect(fixture().count('A', name)).toBe(2);
      // Every answer is counted, the two from the servers and the one from the cache.
      expect(
        await metricValue(app.registry, 'netlab_dns_queries_total', 'type="A",outcome="servfail"'),
      ).toBe(3);
    } finally {
      fixture().set(name, undefined);
    }
  });

  it('FORMERR is named in the detail, with the server that sent it', async () => {
    const app = await api();
    const name = 'formerr.netlab.test';
    fixture().set(name, { rcode: 1, answers: [], authorities: [] });
    try {
      const { status, json } = await resolve(app, `name=${name}`);
      expect(status).toBe(502);
      expect(json).toMatchObject({
        Status: 1,
        code: 'NETLAB_ERR_DNS_FAILURE',
        detail: `${fixture().server} answered FORMERR`,
        upstream: fixture().server,
      });
    } finally {
      fixture().set(name, undefined);
    }
  });

  it('a failure names the server that answered it, not every server asked', async () => {
    const silent = await startSilentDns();
    const name = 'refused.netlab.test';
    fixture().set(name, { rcode: 5, answers: [], authorities: [] });
    try {
      const app = await api({
        DNS_SERVERS: `${fixture().server},${silent.server}`,
        DNS_TIMEOUT_MS: '100',
        DNS_TRIES: '1',
      });
      const { status, json } = await resolve(app, `name=${name}`);
      expect(status).toBe(502);
      expect(json).toMatchObject({
        Status: 5,
        code: 'NETLAB_ERR_DNS_REFUSED',
        upstream: fixture().server,
      });
      // The second server was asked too (it might have answered).
      expect(silent.received()).toBe(1);
    } finally {
      fixture().set(name, undefined);
      await silent.close();
    }
  });
});

describe('Resolution', () => {
  const policy = { maxTtlS: 3600, negativeTtlS: 3600, failureTtlS: 5 };

  it('a query cancelled at shutdown is not cached as a failure', async () => {
    const silent = await startSilentDns();
    const upstream = createUpstream({
      servers: [silent.server],
      timeoutMs: 10_000,
      tries: 1,
      maxInFlight: 10,
      demoZone: false,
    });
    try {
      const resolution = new Resolution({ upstream, maxEntries: 100, policy });
      const pending = resolution.resolve('cancelled.test', 'A');
      await new Promise((resolve) => setTimeout(resolve, 20));
      upstream.cancel();
      const got = await pending;
      expect(got).toMatchObject({ kind: 'failure', outcome: 'error', cached: false });
      expect(resolution.cached('cancelled.test', 'A')).toBeUndefined();
      expect(resolution.cache.size).toBe(0);
    } finally {
      await silent.close();
    }
  });

  it('the latency histogram is fed seconds', async () => {
    const seen: number[] = [];
    const upstream = createUpstream({
      servers: [fixture().server],
      timeoutMs: 5000,
      tries: 1,
      maxInFlight: 10,
      demoZone: false,
    });
    const resolution = new Resolution({
      upstream,
      maxEntries: 100,
      policy,
      observeLatency: (type, seconds) => seen.push(seconds, type.length),
    });
    fixture().hold();
    const pending = resolution.resolve('latency.netlab.test', 'AAAA');
    await new Promise((resolve) => setTimeout(resolve, 120));
    fixture().release();
    await pending;
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBeGreaterThanOrEqual(0.1);
    expect(seen[0]).toBeLessThan(10);
    expect(seen[1]).toBe(4);
  });
});
