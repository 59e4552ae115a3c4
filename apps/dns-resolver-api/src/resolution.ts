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
  /** The rendered body of the last cached hit, reused while its age (in whole seconds) is the same. */
  memo?: { ageS: number; body: string };
}

export type Resolved =
  | { kind: 'answer'; entry: CacheEntry<Answer>; cached: boolean }
  | { kind: 'failure'; name: string; type: RecordType; error: DnsApiError; status?: number };

/** What metrics read at scrape time; counting is plain arithmetic on the hot path. */
export class QueryStats {
  static readonly OUTCOMES: readonly Outcome[] = [
    'noerror',
    'nodata',
    'nxdomain',
    'servfail',
    'refused',
    'timeout',
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
 * NXDOMAIN and NODATA too. Failures (SERVFAIL, timeouts) are not cached: the
 * next request asks again.
 */
export class Resolution {
  readonly stats = new QueryStats();
  readonly cache: TtlCache<Answer>;
  readonly #upstream: Upstream;
  readonly #policy: CachePolicy;
  readonly #inFlight = new Map<string, Promise<Resolved>>();
  readonly #observe: ((type: RecordType, seconds: number) => void) | undefined;
  readonly now: () => number;

  constructor(opts: ResolutionOptions) {
    this.#upstream = opts.upstream;
    this.#policy = opts.policy;
    this.cache = new TtlCache<Answer>(opts.maxEntries);
    this.#observe = opts.observeLatency;
    this.now = opts.now ?? Date.now;
  }

  /** The cached answer, if one is fresh: synchronous, so a hit costs no promise. */
  cached(name: string, type: RecordType): CacheEntry<Answer> | undefined {
    const entry = this.cache.get(key(name, type), this.now());
    if (entry !== undefined) {
      this.stats.cacheHits++;
      this.stats.count(type, outcomeOf(entry.value));
    }
    return entry;
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

  /** Queries in flight to the servers now. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  async #ask(name: string, type: RecordType, k: string): Promise<Resolved> {
    const started = performance.now();
    const result = await this.#upstream.query(name, type);
    this.#observe?.(type, (performance.now() - started) / 1000);
    if (result.kind === 'failure') {
      this.stats.count(type, result.outcome);
      const failure: Resolved = { kind: 'failure', name, type, error: result.error };
      if (result.status !== undefined) failure.status = result.status;
      return failure;
    }
    const answer: Answer = { name, type, status: result.status, records: result.records };
    this.stats.count(type, outcomeOf(answer));
    const lifetimeS = cacheLifetimeS(
      { negative: isNegative(answer), minTtl: result.records.minTtl },
      this.#policy,
    );
    const now = this.now();
    this.cache.set(k, answer, lifetimeS * 1000, now);
    return {
      kind: 'answer',
      entry: { value: answer, storedAt: now, expiresAt: now + lifetimeS * 1000 },
      cached: false,
    };
  }

  /** The servers asked, for the `upstream` field. */
  get upstream(): string {
    return this.#upstream.servers;
  }
}

const key = (name: string, type: RecordType) => `${type} ${name}`;

function isNegative(a: Answer): boolean {
  return a.status === 3 || a.records.answers.length === 0;
}

function outcomeOf(a: Answer): Outcome {
  if (a.status === 3) return 'nxdomain';
  return a.records.answers.length === 0 ? 'nodata' : 'noerror';
}
