import { Counter, Gauge, type Registry } from '@netlab/common';
import {
  type ConnectionMetrics,
  createHttpMetrics,
  type RequestStats,
} from '@netlab/http-handlers';

export interface HttpsMetrics extends ConnectionMetrics {
  handshakes: Counter<'resumed'>;
  handshakeErrors: Counter<'code' | 'reason'>;
  reloads: Counter<'result'>;
  redirects: Counter<never>;
  plaintext: Counter<never>;
  h2Resets: Counter<never>;
  h2SessionsClosed: Counter<'reason'>;
  h2Refused: Counter<never>;
}

/**
 * The same HTTP series as http-hello (@netlab/http-handlers: requests by
 * route and status are read from the handler's RequestStats at scrape
 * time, so a request touches no metric object), plus what TLS adds:
 * handshakes, their failures, reloads and the certificate's expiry, which
 * is what an alert should watch.
 */
export function createHttpsMetrics(
  registry: Registry,
  stats: RequestStats,
  openConnections: () => number,
  certificateExpiry: () => number,
  openStreams: () => number,
): HttpsMetrics {
  new Gauge({
    name: 'netlab_http2_open_streams',
    help: 'HTTP/2 streams open now, process-wide (bounded by H2_MAX_OPEN_STREAMS)',
    registers: [registry],
    collect() {
      this.set(openStreams());
    },
  });
  new Gauge({
    name: 'netlab_tls_certificate_expiry_timestamp_seconds',
    help: 'When the certificate served now expires (Unix time)',
    registers: [registry],
    collect() {
      this.set(certificateExpiry());
    },
  });
  return {
    ...createHttpMetrics(registry, stats, openConnections),
    handshakes: new Counter({
      name: 'netlab_tls_handshakes_total',
      help: 'TLS handshakes completed, by whether the session was resumed',
      labelNames: ['resumed'],
      registers: [registry],
    }),
    handshakeErrors: new Counter({
      name: 'netlab_tls_handshake_errors_total',
      help: "TLS handshakes that failed, by reason (timeout, protocol_version, no_certificate, bad_certificate, not_tls, reset, other) and code (OpenSSL's, or the client certificate's verdict: CERT_HAS_EXPIRED, …)",
      labelNames: ['code', 'reason'],
      registers: [registry],
    }),
    reloads: new Counter({
      name: 'netlab_tls_certificate_reloads_total',
      help: 'Certificate reloads, by result (failed: the current certificate was kept)',
      labelNames: ['result'],
      registers: [registry],
    }),
    plaintext: new Counter({
      name: 'netlab_tls_plaintext_connections_total',
      help: 'Connections that spoke plain HTTP (or anything but TLS) to the TLS port, answered with a plaintext 400',
      registers: [registry],
    }),
    h2Resets: new Counter({
      name: 'netlab_http2_streams_reset_total',
      help: 'HTTP/2 streams the client reset (RST_STREAM) before they completed',
      registers: [registry],
    }),
    h2SessionsClosed: new Counter({
      name: 'netlab_http2_sessions_closed_total',
      help: 'HTTP/2 sessions the server closed, by reason (resets: over H2_MAX_STREAM_RESETS; dead: no answer to PING within H2_PING_TIMEOUT_MS)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    h2Refused: new Counter({
      name: 'netlab_http2_streams_refused_total',
      help: 'HTTP/2 streams refused with REFUSED_STREAM because H2_MAX_OPEN_STREAMS were open',
      registers: [registry],
    }),
    redirects: new Counter({
      name: 'netlab_http_redirects_total',
      help: 'Plain HTTP requests on HTTP_REDIRECT_PORT answered with 308 to https',
      registers: [registry],
    }),
  };
}
