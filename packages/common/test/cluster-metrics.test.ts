import { AggregatorRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { addMonotonic, SlotMetrics } from '../src/cluster-metrics.js';
import { Counter, Gauge, Histogram, Registry } from '../src/metrics.js';

/** A worker's registry as the primary scrapes it: a counter, a gauge and a histogram. */
function worker(counts: { a: number; b?: number; inFlight: number; seconds: number[] }) {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 't', worker: '0' });
  const requests = new Counter({
    name: 'r_total',
    help: 'r',
    labelNames: ['route'],
    registers: [registry],
  });
  requests.inc({ route: '/a' }, counts.a);
  if (counts.b !== undefined) requests.inc({ route: '/b' }, counts.b);
  new Gauge({ name: 'open', help: 'o', registers: [registry] }).set(counts.inFlight);
  const latency = new Histogram({ name: 'lat', help: 'l', buckets: [1], registers: [registry] });
  for (const s of counts.seconds) latency.observe(s);
  return registry.getMetricsAsJSON();
}

async function text(json: Awaited<ReturnType<typeof worker>>) {
  return AggregatorRegistry.aggregate([json]).metrics();
}

describe('SlotMetrics', () => {
  it("adds a dead worker's last counters and histograms to its successor's, and drops its gauges", async () => {
    const slot = new SlotMetrics();
    slot.report(await worker({ a: 4, b: 1, inFlight: 7, seconds: [0.5, 2] }));
    slot.retire();
    // Between the death and the replacement: the counters stay, the gauge goes.
    const between = await text(slot.report(undefined));
    expect(between).toContain('r_total{route="/a",service="t",worker="0"} 4');
    expect(between).toContain('r_total{route="/b",service="t",worker="0"} 1');
    expect(between).not.toContain('open{');
    const after = await text(slot.report(await worker({ a: 2, inFlight: 3, seconds: [0.1] })));
    expect(after).toContain('r_total{route="/a",service="t",worker="0"} 6');
    expect(after).toContain('r_total{route="/b",service="t",worker="0"} 1');
    expect(after).toContain('open{service="t",worker="0"} 3');
    expect(after).toContain('lat_bucket{le="1",service="t",worker="0"} 2');
    expect(after).toContain('lat_bucket{le="+Inf",service="t",worker="0"} 3');
    expect(after).toContain('lat_count{service="t",worker="0"} 3');
    expect(after).toContain('lat_sum{service="t",worker="0"} 2.6');
  });

  it('keeps the counters of every worker the slot has had', async () => {
    const slot = new SlotMetrics();
    for (let i = 0; i < 3; i++) {
      slot.report(await worker({ a: 5, inFlight: 0, seconds: [] }));
      slot.retire();
    }
    expect(await text(slot.report(undefined))).toContain(
      'r_total{route="/a",service="t",worker="0"} 15',
    );
  });

  it('stands in the last counters (no gauges) for a live worker that does not answer a scrape', async () => {
    const slot = new SlotMetrics();
    slot.report(await worker({ a: 9, inFlight: 2, seconds: [] }));
    const slow = await text(slot.report(undefined));
    expect(slow).toContain('r_total{route="/a",service="t",worker="0"} 9');
    expect(slow).not.toContain('open{');
  });

  it('addMonotonic changes neither argument', async () => {
    const a = await worker({ a: 1, inFlight: 1, seconds: [] });
    const b = await worker({ a: 2, inFlight: 1, seconds: [] });
    const before = JSON.stringify([a, b]);
    addMonotonic(a, b);
    expect(JSON.stringify([a, b])).toBe(before);
  });
});
