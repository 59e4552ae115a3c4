import { Counter, Gauge, type Registry } from '@netlab/common';
import { type ConnectionMetrics, createConnectionMetrics } from '@netlab/http-handlers';

export interface StreamerMetrics extends ConnectionMetrics {
  requests: Counter<'route' | 'status'>;
  bytesSent: Counter<never>;
  probes: Counter<never>;
}

/**
 * A file server answers hundreds, not tens of thousands, of requests per
 * second, each moving megabytes: a labelled counter per request costs
 * nothing here, so the counts are kept by prom-client directly.
 */
export function createStreamerMetrics(
  registry: Registry,
  live: {
    connections: () => number;
    streams: () => number;
    bufferBytes: () => number;
    idleBufferBytes: () => number;
  },
): StreamerMetrics {
  new Gauge({
    name: 'netlab_media_streams_active',
    help: 'File bodies being sent now (each holds an open file)',
    registers: [registry],
    collect() {
      this.set(live.streams());
    },
  });
  new Gauge({
    name: 'netlab_media_buffer_bytes',
    help: 'Bytes of read buffers held by downloads now (bounded by connections x STREAM_CHUNK_BYTES + READ_AHEAD_BYTES)',
    registers: [registry],
    collect() {
      this.set(live.bufferBytes());
    },
  });
  new Gauge({
    name: 'netlab_media_buffer_idle_bytes',
    help: 'Bytes of read buffers kept for the next downloads (at most READ_AHEAD_BYTES, or two STREAM_CHUNK_BYTES when that is less)',
    registers: [registry],
    collect() {
      this.set(live.idleBufferBytes());
    },
  });
  return {
    ...createConnectionMetrics(registry, live.connections),
    requests: new Counter({
      name: 'netlab_http_requests_total',
      help: 'HTTP requests answered, by route and status (499: the client left first)',
      labelNames: ['route', 'status'],
      registers: [registry],
    }),
    bytesSent: new Counter({
      name: 'netlab_media_bytes_sent_total',
      help: 'Body bytes of /videos responses the client sockets have taken (file bytes, and the framing of multipart/byteranges)',
      registers: [registry],
    }),
    probes: new Counter({
      name: 'netlab_media_probes_total',
      help: 'Files opened to read their headers for a listing (each inode, size and mtime once while it stays in INFO_CACHE_ENTRIES)',
      registers: [registry],
    }),
  };
}
