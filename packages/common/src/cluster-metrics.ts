import type { Registry } from './metrics.js';

/** A registry as `getMetricsAsJSON()` gives it, the shape AggregatorRegistry sums. */
export type RegistryJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;
type MetricJson = RegistryJson[number];
type ValueJson = MetricJson['values'][number] & { metricName?: string };

/**
 * Counters and histograms only go up, except when the process that counts
 * restarts; Prometheus takes any decrease for such a reset. A service that
 * replaces a dead worker has not restarted, so its counters must not go down.
 */
function isMonotonic(metric: MetricJson): boolean {
  const type = String(metric.type);
  return type === 'counter' || type === 'histogram';
}

function seriesKey(value: ValueJson): string {
  const labels = Object.entries(value.labels ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  return `${value.metricName ?? ''}\u0000${JSON.stringify(labels)}`;
}

/**
 * `into` with the counters and histograms of `from` added series by series
 * (same name, same labels); any other metric of `from` is left out. Neither
 * argument is changed.
 */
export function addMonotonic(into: RegistryJson, from: RegistryJson): RegistryJson {
  const out = new Map<string, MetricJson>();
  for (const metric of into) out.set(metric.name, { ...metric, values: [...metric.values] });
  for (const metric of from) {
    if (!isMonotonic(metric)) continue;
    const target = out.get(metric.name);
    if (target === undefined) {
      out.set(metric.name, { ...metric, values: metric.values.map((v) => ({ ...v })) });
      continue;
    }
    const index = new Map(target.values.map((v, i) => [seriesKey(v), i]));
    for (const value of metric.values) {
      const at = index.get(seriesKey(value));
      if (at === undefined) target.values.push({ ...value });
      else
        target.values[at] = {
          ...target.values[at]!,
          value: target.values[at]!.value + value.value,
        };
    }
  }
  return [...out.values()];
}

/**
 * One worker slot's metrics across the workers that have held it. The
 * primary labels workers by slot (`worker="0"` … `WORKERS-1`), so a
 * replacement reuses its predecessor's label and the label set stays
 * bounded however many times workers restart. A worker killed takes its
 * counters with it; the slot keeps the last values the primary scraped from
 * it and adds them to its successor's, so the sum Prometheus sees never goes
 * down (it loses at most what the dead worker counted after its last
 * scrape, which no scrape ever reported). Gauges describe a live process
 * and go with it.
 */
export class SlotMetrics {
  /** The summed counters of the slot's dead workers. */
  #retired: RegistryJson = [];
  /** The last scrape of the slot's live worker. */
  #last: RegistryJson | undefined;

  /**
   * What the slot reports now, given a fresh scrape of its live worker
   * (undefined when it has none, or it did not answer in time: then its
   * last counters stand in, so a slow scrape is no reset either).
   */
  report(fresh: RegistryJson | undefined): RegistryJson {
    if (fresh !== undefined) this.#last = fresh;
    const current = fresh ?? addMonotonic([], this.#last ?? []);
    return addMonotonic(current, this.#retired);
  }

  /** The slot's worker has exited: its last counters become part of the slot's. */
  retire(): void {
    if (this.#last !== undefined) this.#retired = addMonotonic(this.#retired, this.#last);
    this.#last = undefined;
  }
}
