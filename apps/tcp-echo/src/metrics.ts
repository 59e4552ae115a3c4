import { Counter, Gauge, type Registry } from '@netlab/common';

/** Why a connection closed: `reset` is the client's RST (ECONNRESET), `error` any other socket error. */
export type CloseReason = 'end' | 'idle' | 'reset' | 'error' | 'shutdown';

export interface EchoMetrics {
  connections: Counter<never>;
  active: Gauge<never>;
  rejected: Counter<never>;
  closed: Counter<'reason'>;
  bytesIn: Counter<never>;
  bytesOut: Counter<never>;
}

/**
 * Byte counters are read at scrape time (see server.ts) rather than bumped
 * per chunk, so the echo's hot path stays a bare pipe.
 */
export function createEchoMetrics(
  registry: Registry,
  liveBytes: () => { bytesIn: number; bytesOut: number },
): EchoMetrics {
  return {
    connections: new Counter({
      name: 'netlab_tcp_connections_total',
      help: 'TCP connections accepted',
      registers: [registry],
    }),
    active: new Gauge({
      name: 'netlab_tcp_connections_active',
      help: 'TCP connections open now',
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'netlab_tcp_connections_rejected_total',
      help: 'TCP connections closed at once because MAX_CONNECTIONS were open',
      registers: [registry],
    }),
    closed: new Counter({
      name: 'netlab_tcp_connections_closed_total',
      help: 'TCP connections closed, by reason (end, idle, reset, error, shutdown)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    bytesIn: new Counter({
      name: 'netlab_tcp_bytes_received_total',
      help: 'Bytes received from clients',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(liveBytes().bytesIn);
      },
    }),
    bytesOut: new Counter({
      name: 'netlab_tcp_bytes_sent_total',
      help: 'Bytes echoed back to clients',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(liveBytes().bytesOut);
      },
    }),
  };
}
