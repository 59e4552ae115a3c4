import { Counter, Gauge, Histogram, type Registry } from '@netlab/common';
import { type ConnectionMetrics, createHttpMetrics } from '@netlab/http-handlers';
import type { RouteStats } from './api.js';
import type { Lookups } from './lookup.js';
import type { Resolution } from './resolution.js';

export interface ResolverMetrics extends ConnectionMetrics {
  upstreamLatency: Histogram<'type'>;
}

/**
 * Counts kept as plain numbers by the code that serves requests (RouteStats,
 * QueryStats, the cache, the lookup limiter) are read at scrape time, so a
 * cached answer touches no metric object at all.
 */
export function createResolverMetrics(
  registry: Registry,
  sources: {
    routes: RouteStats;
    resolution: Resolution;
    lookups: Lookups;
    openConnections: () => number;
  },
): ResolverMetrics {
  const { routes, resolution, lookups } = sources;
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  const total = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });

  const http = createHttpMetrics(registry, routes, sources.openConnections);

  new Counter({
    name: 'netlab_dns_queries_total',
    help: 'DNS questions answered from the cache or sent to the servers (not those that joined a query in flight: see netlab_dns_coalesced_total), by type and outcome: noerror, nodata, nxdomain, servfail, refused, timeout, error',
    labelNames: ['type', 'outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { type, outcome, count } of resolution.stats.entries()) {
        this.inc({ type, outcome }, count);
      }
    },
  });
  total(
    'netlab_dns_cache_hits_total',
    'Questions answered from the cache',
    () => resolution.stats.cacheHits,
  );
  total(
    'netlab_dns_cache_misses_total',
    'Questions sent to the DNS servers (a miss that joined an identical query in flight is counted as coalesced instead)',
    () => resolution.stats.cacheMisses,
  );
  total(
    'netlab_dns_coalesced_total',
    'Questions that joined an identical query already in flight instead of sending their own',
    () => resolution.stats.coalesced,
  );
  total(
    'netlab_dns_cache_evictions_total',
    'Cached answers dropped to make room (CACHE_MAX_ENTRIES)',
    () => resolution.cache.evictions,
  );
  gauge(
    'netlab_dns_cache_entries',
    'Answers in the cache now (expired ones included until touched)',
    () => resolution.cache.size,
  );
  gauge(
    'netlab_dns_queries_in_flight',
    'Distinct queries waiting for the DNS servers now',
    () => resolution.inFlight,
  );
  total(
    'netlab_dns_mismatched_answers_total',
    'Datagrams from a DNS server ignored because they did not answer the question asked (wrong ID or question: spoofing, or an answer to a query already given up)',
    () => resolution.mismatched,
  );
  gauge(
    'netlab_dns_lookups_active',
    'getaddrinfo calls running now (at most LOOKUP_CONCURRENCY)',
    () => lookups.limiter.active,
  );
  gauge(
    'netlab_dns_lookups_queued',
    'Lookups waiting for a slot now (at most LOOKUP_QUEUE_SIZE)',
    () => lookups.limiter.waiting,
  );
  total(
    'netlab_dns_lookups_rejected_total',
    'Lookups refused with 503 because every slot was busy and the queue full',
    () => lookups.limiter.rejected,
  );

  return {
    ...http,
    upstreamLatency: new Histogram({
      name: 'netlab_dns_upstream_duration_seconds',
      help: 'Time the DNS servers took to answer one query (or to fail), by type',
      labelNames: ['type'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}
