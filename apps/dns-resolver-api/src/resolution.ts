import { type CacheEntry, type CachePolicy, cacheLifetimeS, TtlCache } from './cache.js';
import type { DnsApiError } from './errors.js';
import { RECORD_TYPES, type RecordType } from './record-type.js';
import type { Records } from './records.js';
import type { Outcome, Upstream } from './upstream.js';

/** A DNS answer as the cache keeps it. */
export interface Answer {
  readonly name: string;
  readonly type: RecordType;
  /** DNS RCODE: 0 NOERROR (NODATA when there are no records), 3 NXDOMAIN. */
  readonly status: 0 | 3;
  readonly records: Records;
  /** The server that answered. */
  readonly upstream: string;
  /** The rendered body of the last cached hit, reused while its age (in whole seconds) is the same. */
  memo?: { ageS: number; body: string };
}

/** A failure as the cache keeps it (RFC 9520), told again until it expires. */
export interface Failure {
  readonly kind: 'failure';
  readonly name: string;
  readonly type: RecordType;
  readonly error: DnsApiError;
  readonly status?: number;
  readonly outcome: Outcome;
  /** The server that answered with the failure; unset when none did. */
  readonly upstream?: string;
}

export type Resolved =
  | { kind: 'answer'; entry: CacheEntry<Answer>; cached: boolean }
  | (Failure & { cached: boolean });

type Cached = Answer | Failure;
const isFailure = (v: Cached): v is Failure => 'kind' in v;

/** What metrics read at scrape time; counting is plain arithmetic on the hot path. */
export class QueryStats {
  static readonly OUTCOMES: readonly Outcome[] = [
    'noerror',
    'nodata',
    'nxdomain',
    'servfail',
    'refused',
    'timeout',
    'busy',
    'error',
  ];
  static readonly TYPES = Object.keys(RECORD_TYPES) as RecordType[];
  readonly #counts = new Float64Array(QueryStats.TYPES.length * QueryStats.OUTCOMES.length);
  cacheHits = 0;
  cacheMisses = 0;
  /** Requests that joined an identical query already in flight instead of sending their own. */
  coalesced = 0;

  count(type: RecordType, outcome: Outcome): void {
    const t = QueryStats.TYPES.indexOf(type);
    this.#counts[t * QueryStats.OUTCOMES.length + QueryStats.OUTCOMES.indexOf(outcome)]!++;
  }

  *entries(): IterableIterator<{ type: RecordType; outcome: Outcome; count: number }> {
    const n = QueryStats.OUTCOMES.length;
    for (let i = 0; i < this.#counts.length; i++) {
      const count = this.#counts[i]!;
      if (count > 0) {
        yield {
          type: QueryStats.TYPES[Math.floor(i / n)]!,
          outcome: QueryStats.OUTCOMES[i % n]!,
          count,
        };
      }
    }
  }
}

export interface ResolutionOptions {
  upstream: Upstream;
  maxEntries: number;
  policy: CachePolicy;
  /** Seconds one upstream query took, by type (the latency histogram). */
  observeLatency?: (type: RecordType, seconds: number) => void;
  /** Milliseconds since the epoch; tests pass a clock they drive. */
  now?: () => number;
}

/**
 * Resolution with a cache in front: a fresh cached answer is served without
 * a query; identical queries already on their way to the servers are joined,
 * not repeated (a thousand clients asking for the same name at once cost
 * one query); answers are cached for their lifetime (see cacheLifetimeS),
 * NXDOMAIN and NODATA too. Failures (SERVFAIL, REFUSED, no answer) are
 * cached for CACHE_FAILURE_TTL_S (RFC 9520 §3.2), so a failing name costs
 * the servers one query per period, not one per request; our own refusals
 * (DNS_MAX_IN_FLIGHT, shutdown) are not.
 */
export class Resolution {
  readonly stats = new QueryStats();
  readonly cache: TtlCache<Cached>;
  readonly #upstream: Upstream;
  readonly #policy: CachePolicy;
  readonly #inFlight = new Map<string, Promise<Resolved>>();
  readonly #observe: ((type: RecordType, seconds: number) => void) | undefined;
  readonly now: () => number;

  constructor(opts: ResolutionOptions) {
    this.#upstream = opts.upstream;
    this.#policy = opts.policy;
    this.cache = new TtlCache<Cached>(opts.maxEntries);
    this.#observe = opts.observeLatency;
    this.now = opts.now ?? Date.now;
  }

  /** The cached answer or failure, if one is fresh: synchronous, so a hit costs no promise. */
  cached(name: string, type: RecordType): Resolved | undefined {
    const entry = this.cache.get(key(name, type), this.now());
    if (entry === undefined) return undefined;
    this.stats.cacheHits++;
    const value = entry.value;
    if (isFailure(value)) {
      this.stats.count(type, value.outcome);
      return { ...value, cached: true };
    }
    this.stats.count(type, outcomeOf(value));
    return { kind: 'answer', entry: entry as CacheEntry<Answer>, cached: true };
  }

  /** Asks the servers (or joins the same question already asked); call after cached() missed. */
  resolve(name: string, type: RecordType): Promise<Resolved> {
    const k = key(name, type);
    const pending = this.#inFlight.get(k);
    if (pending !== undefined) {
      this.stats.coalesced++;
      return pending;
    }
    this.stats.cacheMisses++;
    const query = this.#ask(name, type, k).finally(() => this.#inFlight.delete(k));
    this.#inFlight.set(k, query);
    return query;
  }

  /** Distinct questions waiting for the servers now. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Datagrams ignored because they did not answer the question asked. */
  get mismatched(): number {
    return this.#upstream.mismatched;
  }

  async #ask(name: string, type: RecordType, k: string): Promise<Resolved> {
    const started = performance.now();
    const result = await this.#upstream.query(name, type);
    this.#observe?.(type, (performance.now() - started) / 1000);
    const now = this.now();
    if (result.kind === 'failure') {
      this.stats.count(type, result.outcome);
      const failure: Failure = {
        kind: 'failure',
        name,
        type,
        error: result.error,
        outcome: result.outcome,
        ...(result.status === undefined ? {} : { status: result.status }),
        ...(result.upstream === undefined ? {} : { upstream: result.upstream }),
      };
      if (result.cacheable) {
        const lifetimeS = Math.min(this.#policy.failureTtlS, this.#policy.maxTtlS);
        this.cache.set(k, failure, lifetimeS * 1000, now);
      }
      return { ...failure, cached: false };
    }
    const answer: Answer = {
      name,
      type,
      status: result.status,
      records: result.records,
      upstream: result.upstream,
    };
    this.stats.count(type, outcomeOf(answer));
    const lifetimeS = cacheLifetimeS(result.records, this.#policy);
    this.cache.set(k, answer, lifetimeS * 1000, now);
    return {
      kind: 'answer',
      entry: { value: answer, storedAt: now, expiresAt: now + lifetimeS * 1000 },
      cached: false,
    };
  }

  /** The servers asked, for the `upstream` field of a failure no server answered. */
  get upstream(): string {
    return this.#upstream.servers;
  }
}

const key = (name: string, type: RecordType) => `${type} ${name}`;

function outcomeOf(a: Answer): Outcome {
  if (a.status === 3) return 'nxdomain';
  return a.records.positive ? 'noerror' : 'nodata';
}
