import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cacheLifetimeS, TtlCache } from '../src/cache.js';

describe('TtlCache', () => {
  it('serves an entry until it expires, and not at or after its expiry', () => {
    const cache = new TtlCache<string>(10);
    cache.set('k', 'v', 1000, 5000);
    expect(cache.get('k', 5000)?.value).toBe('v');
    expect(cache.get('k', 5999)).toMatchObject({ value: 'v', storedAt: 5000, expiresAt: 6000 });
    expect(cache.get('k', 6000)).toBeUndefined();
    expect(cache.size).toBe(0); // an expired entry is dropped when met
  });

  it('holds at most maxEntries, evicting the least recently used', () => {
    const cache = new TtlCache<number>(3);
    for (const k of ['a', 'b', 'c']) cache.set(k, 1, 60_000, 0);
    cache.get('a', 1); // a is now the most recently used
    cache.set('d', 1, 60_000, 2);
    expect(cache.size).toBe(3);
    expect(cache.get('b', 3)).toBeUndefined();
    expect(cache.get('a', 3)).toBeDefined();
    expect(cache.evictions).toBe(1);
  });

  it('stores nothing when maxEntries is 0 or the lifetime is not positive', () => {
    const off = new TtlCache<number>(0);
    off.set('k', 1, 60_000, 0);
    expect(off.get('k', 0)).toBeUndefined();
    const cache = new TtlCache<number>(5);
    cache.set('zero', 1, 0, 0);
    cache.set('negative', 1, -5, 0);
    expect(cache.size).toBe(0);
  });

  it('never holds more than maxEntries and never serves an expired entry, for any sequence of operations', () => {
    const op = fc.record({
      key: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'),
      ttl: fc.integer({ min: -10, max: 100 }),
      advance: fc.integer({ min: 0, max: 50 }),
      set: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 }), fc.array(op, { maxLength: 60 }), (max, ops) => {
        const cache = new TtlCache<number>(max);
        const expires = new Map<string, number>();
        let now = 0;
        for (const o of ops) {
          now += o.advance;
          if (o.set) {
            cache.set(o.key, now, o.ttl, now);
            if (max > 0 && o.ttl > 0) expires.set(o.key, now + o.ttl);
          } else {
            const hit = cache.get(o.key, now);
            if (hit !== undefined) {
              expect(now).toBeLessThan(hit.expiresAt);
              expect(hit.expiresAt).toBe(expires.get(o.key));
            }
          }
          expect(cache.size).toBeLessThanOrEqual(max);
        }
      }),
    );
  });
});

describe('cacheLifetimeS', () => {
  const policy = { maxTtlS: 3600, negativeTtlS: 30, failureTtlS: 5 };
  const positive = (minTtl: number) => ({ positive: true, minTtl, negativeTtl: undefined });
  const negative = (negativeTtl: number | undefined, minTtl?: number) => ({
    positive: false,
    minTtl,
    negativeTtl,
  });
  it.each([
    [positive(300), 300, 'the smallest TTL the records report'],
    [positive(0), 0, 'TTL 0: not cached'],
    [positive(86_400), 3600, 'capped at CACHE_MAX_TTL_S'],
    [negative(7), 7, 'NXDOMAIN/NODATA: min(SOA TTL, MINIMUM), as the records gave it'],
    [negative(300), 30, 'capped at CACHE_NEGATIVE_TTL_S'],
    [negative(20, 4), 4, 'NODATA through a CNAME: the CNAME expires first'],
    [negative(undefined), 0, 'no SOA: not cached (RFC 2308 §5)'],
    [negative(undefined, 300), 0, 'no SOA, whatever the chain says'],
  ] as const)('%o → %i s (%s)', (answer, expected, _why) => {
    expect(cacheLifetimeS(answer, policy)).toBe(expected);
  });

  it('caps the negative lifetime at CACHE_MAX_TTL_S too', () => {
    expect(cacheLifetimeS(negative(20), { ...policy, maxTtlS: 10 })).toBe(10);
  });
});
