import { Counter, Gauge, type Registry } from '@netlab/common';

export interface StreamerMetrics {
  requests: Counter<'route' | 'status'>;
  bytesSent: Counter<never>;
  connections: Counter<never>;
  clientErrors: Counter<'code'>;
  dropped: Counter<never>;
  idleClosed: Counter<never>;
}

/**
 * A file server answers hundreds, not tens of thousands, of requests per
 * second, each moving megabytes: a labelled counter per request costs
 * nothing here, so the counts are kept by prom-client directly.
 */
export function createStreamerMetrics(
  registry: Registry,
  live: { connections: () => number; streams: () => number; bufferBytes: () => number },
): StreamerMetrics {
  new Gauge({
    name: 'netlab_http_connections_active',
    help: 'HTTP connections open now',
    registers: [registry],
    collect() {
      this.set(live.connections());
    },
  });
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
  return {
    requests: new Counter({
      name: 'netlab_http_requests_total',
      help: 'HTTP requests answered, by route and status (499: the client left first)',
      labelNames: ['route', 'status'],
      registers: [registry],
    }),
    bytesSent: new Counter({
      name: 'netlab_media_bytes_sent_total',
      help: 'File bytes handed to client sockets',
      registers: [registry],
    }),
    connections: new Counter({
      name: 'netlab_http_connections_total',
      help: 'HTTP connections accepted',
      registers: [registry],
    }),
    clientErrors: new Counter({
      name: 'netlab_http_client_errors_total',
      help: 'Connections closed for a protocol error or limit before a request was handled, by code',
      labelNames: ['code'],
      registers: [registry],
    }),
    dropped: new Counter({
      name: 'netlab_http_connections_rejected_total',
      help: 'Connections closed at once because MAX_CONNECTIONS were open',
      registers: [registry],
    }),
    idleClosed: new Counter({
      name: 'netlab_http_connections_idle_closed_total',
      help: 'Connections closed after IDLE_TIMEOUT_MS without traffic either way',
      registers: [registry],
    }),
  };
}
