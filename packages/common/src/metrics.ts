import { collectDefaultMetrics, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const METRIC_PREFIX = 'netlab_';

/** What the admin server needs to answer /metrics: a prom-client Registry fits, so does a cluster aggregator. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/**
 * A fresh registry per service instance (never prom-client's global one), so
 * two servers in one test process do not share counters. Default process
 * metrics are prefixed too: `netlab_process_cpu_seconds_total`, …
 */
export function createRegistry(service: string, opts: { defaultMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (opts.defaultMetrics ?? true)
    collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  return registry;
}
