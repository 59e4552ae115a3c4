import { Counter, Gauge, type Registry } from '@netlab/common';
import type { FrameStats } from './stats.js';

export interface ProtocolMetrics {
  connections: Counter<never>;
  active: Gauge<never>;
  rejected: Counter<never>;
  handshakeFailures: Counter<'reason'>;
  closed: Counter<'reason'>;
  reloads: Counter<'result'>;
}

export function createProtocolMetrics(
  registry: Registry,
  stats: FrameStats,
  liveBytes: () => { bytesIn: number; bytesOut: number; buffered: number },
): ProtocolMetrics {
  new Counter({
    name: 'netlab_tls_frames_total',
    help: 'netlab/1 frames, by direction (in: requests, out: responses) and type',
    labelNames: ['direction', 'type'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [direction, type, count] of stats.frames()) this.inc({ direction, type }, count);
    },
  });
  new Counter({
    name: 'netlab_tls_protocol_errors_total',
    help: 'ERROR frames sent, by code name (UNKNOWN_TYPE, FRAME_TOO_LARGE, …)',
    labelNames: ['code'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [code, count] of stats.errors()) this.inc({ code }, count);
    },
  });
  new Counter({
    name: 'netlab_tls_bytes_received_total',
    help: 'Application bytes received (decrypted), all connections',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(liveBytes().bytesIn);
    },
  });
  new Counter({
    name: 'netlab_tls_bytes_sent_total',
    help: 'Bytes sent on the wire, all connections',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(liveBytes().bytesOut);
    },
  });
  new Gauge({
    name: 'netlab_tls_output_buffered_bytes',
    help: 'Answer bytes waiting in the server for clients to read them, all connections (each holds at most MAX_BUFFERED_BYTES plus one answer)',
    registers: [registry],
    collect() {
      this.set(liveBytes().buffered);
    },
  });
  return {
    connections: new Counter({
      name: 'netlab_tls_connections_total',
      help: 'TLS connections that completed the handshake',
      registers: [registry],
    }),
    active: new Gauge({
      name: 'netlab_tls_connections_active',
      help: 'TLS connections open now (handshake done)',
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'netlab_tls_connections_rejected_total',
      help: 'TCP connections closed at once because MAX_CONNECTIONS were open',
      registers: [registry],
    }),
    handshakeFailures: new Counter({
      name: 'netlab_tls_handshake_failures_total',
      help: 'TLS handshakes that failed, by reason (timeout, no_alpn, protocol_version, no_certificate, bad_certificate, not_tls, other)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    reloads: new Counter({
      name: 'netlab_tls_certificate_reloads_total',
      help: 'Certificate reloads, by result (failed: the current certificate was kept)',
      labelNames: ['result'],
      registers: [registry],
    }),
    closed: new Counter({
      name: 'netlab_tls_connections_closed_total',
      help: 'Connections closed, by reason (end, bye, idle, frame-timeout, protocol-error, shutdown, reset, renegotiation, error)',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}
