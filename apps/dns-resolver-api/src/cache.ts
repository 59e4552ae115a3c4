/** One cached value and when it stops being fresh. */
export interface CacheEntry<V> {
  readonly value: V;
  /** Clock time (ms) it was stored: its age is measured from here. */
  readonly storedAt: number;
  /** Clock time (ms) after which it is never served. */
  readonly expiresAt: number;
}

/**
 * A bounded cache of values that expire: at most `maxEntries` (0 turns it
 * off), least recently used evicted first, an expired entry never served.
 * Pure: the caller passes the time, so tests drive the clock.
 *
 * A Map keeps insertion order, so re-inserting on every hit makes its first
 * key the least recently used one: LRU without a linked list.
 */
export class TtlCache<V> {
  readonly #entries = new Map<string, CacheEntry<V>>();
  readonly #maxEntries: number;
  #evictions = 0;
  /** The key inserted last: already where a hit moves it (a client asking one name again and again). */
  #newest: string | undefined;

  constructor(maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 0) {
      throw new RangeError(`maxEntries must be an integer >= 0, got ${maxEntries}`);
    }
    this.#maxEntries = maxEntries;
  }

  /** The fresh entry for `key` at time `now`, or undefined (an expired one is dropped). */
  get(key: string, now: number): CacheEntry<V> | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (now >= entry.expiresAt) {
      this.#entries.delete(key);
      return undefined;
    }
    if (key !== this.#newest) {
      this.#entries.delete(key);
      this.#entries.set(key, entry);
      this.#newest = key;
    }
    return entry;
  }

  /** Stores `value` for `ttlMs` from `now`; a lifetime of 0 or less stores nothing. */
  set(key: string, value: V, ttlMs: number, now: number): void {
    if (this.#maxEntries === 0 || !(ttlMs > 0)) return;
    this.#entries.delete(key);
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
      this.#evictions++;
    }
    this.#entries.set(key, { value, storedAt: now, expiresAt: now + ttlMs });
    this.#newest = key;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Entries dropped to make room (not those that expired). */
  get evictions(): number {
    return this.#evictions;
  }
}

export interface CachePolicy {
  /** No answer lives longer (CACHE_MAX_TTL_S). */
  maxTtlS: number;
  /** No NXDOMAIN or NODATA lives longer (CACHE_NEGATIVE_TTL_S; RFC 2308 §5 suggests 1-3 hours). */
  negativeTtlS: number;
  /** Lifetime of a failure: SERVFAIL, REFUSED, no answer (CACHE_FAILURE_TTL_S; RFC 9520). */
  failureTtlS: number;
}

/**
 * How long an answer may be served from the cache, in seconds, never more
 * than the servers said:
 * - records of the type asked: the smallest TTL of the answer (the CNAMEs
 *   of the chain included: RFC 2181 §5.2, an answer expires as a whole);
 * - NXDOMAIN and NODATA: RFC 2308 §5, the SOA's TTL or its MINIMUM field,
 *   whichever is smaller (and the chain's TTLs); without an SOA, 0: not
 *   cached (§5: "SHOULD NOT be cached"), capped at the negative maximum.
 * Everything capped at the maximum.
 */
export function cacheLifetimeS(
  answer: { positive: boolean; minTtl: number | undefined; negativeTtl: number | undefined },
  policy: CachePolicy,
): number {
  let wanted: number;
  if (answer.positive) wanted = answer.minTtl ?? 0;
  else if (answer.negativeTtl === undefined) wanted = 0;
  else {
    wanted = Math.min(answer.negativeTtl, answer.minTtl ?? answer.negativeTtl, policy.negativeTtlS);
  }
  return Math.max(0, Math.min(wanted, policy.maxTtlS));
}
