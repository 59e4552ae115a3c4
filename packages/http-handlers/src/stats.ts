import { FAULT_KINDS } from './answer-control.js';

/** The routes requests are counted by; `unmatched` is everything that got a 404. */
export const ROUTES = [
  '/',
  '/whoami',
  '/echo',
  '/status',
  '/delay',
  'unmatched',
  '/drip',
  '/sse',
] as const;
export type RouteName = (typeof ROUTES)[number];

const STATUSES = 600;

/**
 * Requests by route and status, as plain numbers in a typed array. Counting a
 * request is one array increment; a metrics registry reads the totals at
 * scrape time. prom-client's `labels().inc()` on every request costs a label
 * hash and a map lookup, which shows at tens of thousands of requests per
 * second.
 */
export class RequestStats {
  readonly #counts = new Float64Array(ROUTES.length * STATUSES);
  #started = 0;
  #finished = 0;
  // Answer control's injected faults, by kind (FAULT_KINDS).
  readonly #faults = new Float64Array(FAULT_KINDS.length);

  /** An answer got the faults `kinds` (comma-separated FAULT_KINDS). */
  countFaults(kinds: string): void {
    for (let i = 0; i < FAULT_KINDS.length; i++) {
      if (kinds.includes(FAULT_KINDS[i]!)) this.#faults[i]!++;
    }
  }

  /** Injected faults by kind, every kind included. */
  *faultEntries(): IterableIterator<{ kind: string; count: number }> {
    for (let i = 0; i < FAULT_KINDS.length; i++) {
      yield { kind: FAULT_KINDS[i]!, count: this.#faults[i]! };
    }
  }

  /** A request arrived. */
  start(): void {
    this.#started++;
  }

  /** A request was answered (or its client left); `route` is an index into ROUTES. */
  count(route: number, status: number): void {
    this.#finished++;
    if (status >= 0 && status < STATUSES) this.#counts[route * STATUSES + status]!++;
  }

  /** Requests arrived and not yet answered: what a drain waits for. */
  get inFlight(): number {
    return this.#started - this.#finished;
  }

  /** Every (route, status) pair seen so far, with its count. */
  *entries(): IterableIterator<{ route: RouteName; status: number; count: number }> {
    for (let i = 0; i < this.#counts.length; i++) {
      const count = this.#counts[i]!;
      if (count > 0) {
        yield { route: ROUTES[Math.floor(i / STATUSES)]!, status: i % STATUSES, count };
      }
    }
  }
}
