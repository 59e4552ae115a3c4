import type { NetlabClient } from './client.js';

export interface BenchResult {
  requests: number;
  concurrency: number;
  size: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * Pipelined ECHO load on one connection: keeps `concurrency` requests in
 * flight until `requests` have been answered, checking every answer's
 * length. Latency is per request, from send to answer.
 */
export async function runBench(
  client: NetlabClient,
  opts: { requests: number; concurrency: number; size: number },
): Promise<BenchResult> {
  const payload = Buffer.alloc(opts.size, 0x61);
  const latencies = new Float64Array(opts.requests);
  let sent = 0;
  const started = performance.now();
  const worker = async () => {
    while (sent < opts.requests) {
      const i = sent++;
      const t = performance.now();
      const back = await client.echo(payload);
      if (back.length !== payload.length) throw new Error('ECHO came back with another length');
      latencies[i] = performance.now() - t;
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, opts.requests) }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort();
  const at = (q: number) =>
    Math.round(
      latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]! * 1000,
    ) / 1000;
  return {
    requests: opts.requests,
    concurrency: opts.concurrency,
    size: opts.size,
    seconds,
    requestsPerSecond: opts.requests / seconds,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  };
}
