import { waitUntil } from '@netlab/testkit';
import type { Answer } from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { soa } from './fixture-dns.js';
import { metricValue, request, type Started, useFixtureApi } from './helpers.js';

const { api, fixture } = useFixtureApi();
const resolve = (a: Started, query: string) => request(`${a.url}/resolve?${query}`);

describe('negative answers (RFC 2308)', () => {
  it('NODATA is cached for min(SOA TTL, SOA MINIMUM), not a default', async () => {
    let now = 1_000_000;
    const a = await api({ CACHE_NEGATIVE_TTL_S: '3600' }, { now: () => now });
    const name = 'nodata-ttl.netlab.test';
    fixture().set(name, { rcode: 0, answers: [], authorities: [soa(40, 7)] });
    try {
      const first = await resolve(a, `name=${name}&type=MX`);
      expect(first.json).toMatchObject({ Status: 0, cached: false });
      expect(first.json).not.toHaveProperty('Answer');
      expect(first.headers['cache-control']).toBe('max-age=7');
      now += 6_999;
      expect((await resolve(a, `name=${name}&type=MX`)).headers['cache-control']).toBe('max-age=0');
      expect(fixture().count('MX', name)).toBe(1);
      now += 1;
      expect((await resolve(a, `name=${name}&type=MX`)).json.cached).toBe(false);
      expect(fixture().count('MX', name)).toBe(2);
      // The other bound: the SOA's own TTL when it is the smaller.
      fixture().set(name, { rcode: 3, answers: [], authorities: [soa(4, 300)] });
      const nx = await resolve(a, `name=${name}&type=TXT`);
      expect(nx.json.Status).toBe(3);
      expect(nx.headers['cache-control']).toBe('max-age=4');
    } finally {
      fixture().set(name, undefined);
    }
  });

  it('NXDOMAIN without an SOA is not cached (max-age=0, asked again)', async () => {
    const a = await api();
    const name = 'nosoa.netlab.test';
    fixture().set(name, { rcode: 3, answers: [], authorities: [] });
    try {
      const first = await resolve(a, `name=${name}`);
      expect(first.json.Status).toBe(3);
      expect(first.headers['cache-control']).toBe('max-age=0');
      expect((await resolve(a, `name=${name}`)).json.cached).toBe(false);
      expect(fixture().count('A', name)).toBe(2);
    } finally {
      fixture().set(name, undefined);
    }
  });

  it('NODATA through a CNAME: the chain is shown, and the shorter of chain and SOA rules', async () => {
    const a = await api({ CACHE_NEGATIVE_TTL_S: '3600' });
    const name = 'alias-nodata.netlab.test';
    const alias: Answer = { name, type: 'CNAME', ttl: 3, data: 'nodata.netlab.test' };
    fixture().set(name, { rcode: 0, answers: [alias], authorities: [soa(60, 60)] });
    try {
      const res = await resolve(a, `name=${name}&type=MX`);
      expect(res.json.Answer).toEqual([{ name, type: 5, TTL: 3, data: 'nodata.netlab.test.' }]);
      expect(res.headers['cache-control']).toBe('max-age=3');
    } finally {
      fixture().set(name, undefined);
    }
  });
});

describe('a record changed upstream', () => {
  it('is served new once its TTL (1 s) is over: not before, and not long after (real clock)', async () => {
    const a = await api();
    const name = 'changing.netlab.test';
    const mx = (exchange: string): Answer => ({
      name,
      type: 'MX',
      ttl: 1,
      data: { preference: 10, exchange },
    });
    fixture().set(name, { rcode: 0, answers: [mx('old.netlab.test')], authorities: [] });
    try {
      const started = performance.now();
      const first = await resolve(a, `name=${name}&type=MX`);
      expect(first.json.Answer[0]).toMatchObject({ TTL: 1, data: '10 old.netlab.test.' });
      expect(first.headers['cache-control']).toBe('max-age=1');
      fixture().set(name, { rcode: 0, answers: [mx('new.netlab.test')], authorities: [] });
      // Served from the cache meanwhile, as the TTL allows.
      const again = await resolve(a, `name=${name}&type=MX`);
      if (performance.now() - started < 900) {
        expect(again.json).toMatchObject({
          cached: true,
          Answer: [{ data: '10 old.netlab.test.' }],
        });
      }
      let last = again;
      await waitUntil(
        async () => {
          last = await resolve(a, `name=${name}&type=MX`);
          return last.json.Answer[0].data === '10 new.netlab.test.';
        },
        { timeoutMs: 5_000, intervalMs: 50, what: 'the new MX' },
      );
      const elapsed = performance.now() - started;
      // Not before its TTL, and not long after: the old 60 s default would never get here.
      expect(elapsed).toBeGreaterThanOrEqual(1_000);
      expect(elapsed).toBeLessThan(3_000);
      expect(last.json.cached).toBe(false);
      expect(fixture().count('MX', name)).toBe(2);
    } finally {
      fixture().set(name, undefined);
    }
  });
});

describe('the upstream exchange', () => {
  it('ignores forged answers (wrong ID, wrong question) and takes the real one; counts them', async () => {
    const a = await api({ DNS_TIMEOUT_MS: '2000', DNS_TRIES: '1' });
    fixture().spoof(true);
    try {
      const res = await resolve(a, 'name=example.netlab.test&type=AAAA');
      expect(res.json.Answer).toEqual([
        { name: 'example.netlab.test', type: 28, TTL: 300, data: '2001:db8::10' },
      ]);
    } finally {
      fixture().spoof(false);
    }
    expect(await metricValue(a.registry, 'netlab_dns_mismatched_answers_total')).toBe(2);
  });

  it('at most DNS_MAX_IN_FLIGHT distinct queries out; one more gets 503 NETLAB_ERR_DNS_BUSY at once, uncached', async () => {
    const a = await api({ DNS_MAX_IN_FLIGHT: '2', DNS_TIMEOUT_MS: '20000' });
    fixture().hold();
    const before = fixture().queries.length;
    let waiting: Promise<unknown>[] = [];
    try {
      waiting = ['one', 'two'].map((n) => resolve(a, `name=${n}.busy.netlab.test`));
      await waitUntil(() => fixture().queries.length - before === 2, { what: 'two queries out' });
      const third = await resolve(a, 'name=three.busy.netlab.test');
      expect(third.status).toBe(503);
      expect(third.headers['retry-after']).toBe('1');
      expect(third.json).toMatchObject({ code: 'NETLAB_ERR_DNS_BUSY', status: 503 });
      expect(fixture().queries.length - before).toBe(2);
      // A question already out is joined, not refused.
      const joined = resolve(a, 'name=one.busy.netlab.test');
      await waitUntil(
        async () => (await metricValue(a.registry, 'netlab_dns_coalesced_total')) === 1,
      );
      waiting.push(joined);
    } finally {
      fixture().release();
    }
    await Promise.all(waiting);
    // Nothing of the refusal was cached: once a slot is free, the name is asked.
    expect((await resolve(a, 'name=three.busy.netlab.test')).json.Status).toBe(3);
  });
});
