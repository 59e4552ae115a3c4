import { Counter, Gauge, type Registry } from '@netlab/common';
import type { RequestStats } from '@netlab/http-handlers';

export interface HttpsMetrics {
  connections: Counter<never>;
  handshakes: Counter<'resumed'>;
  handshakeErrors: Counter<'code'>;
  clientErrors: Counter<'code'>;
  dropped: Counter<never>;
  idleClosed: Counter<never>;
  reloads: Counter<'result'>;
  redirects: Counter<never>;
}

/**
 * The same HTTP series as http-hello (requests by route and status are read
 * from the handler's RequestStats at scrape time, so a request touches no
 * metric object), plus what TLS adds: handshakes, their failures, reloads and
 * the certificate's expiry, which is what an alert should watch.
 */
export function createHttpsMetrics(
  registry: Registry,
  stats: RequestStats,
  openConnections: () => number,
  certificateExpiry: () => number,
): HttpsMetrics {
  new Counter({
    name: 'netlab_http_requests_total',
    help: 'HTTP requests answered, by route and status (499: the client left first)',
    labelNames: ['route', 'status'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { route, status, count } of stats.entries()) {
        this.inc({ route, status: String(status) }, count);
      }
    },
  });
  new Gauge({
    name: 'netlab_http_requests_in_flight',
    help: 'HTTP requests received and not yet answered',
    registers: [registry],
    collect() {
      this.set(stats.inFlight);
    },
  });
  new Gauge({
    name: 'netlab_http_connections_active',
    help: 'TLS connections open now (HTTP/1.1 and HTTP/2)',
    registers: [registry],
    collect() {
      this.set(openConnections());
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
    connections: new Counter({
      name: 'netlab_http_connections_total',
      help: 'TLS connections that completed the handshake',
      registers: [registry],
    }),
    handshakes: new Counter({
      name: 'netlab_tls_handshakes_total',
      help: 'TLS handshakes completed, by whether the session was resumed',
      labelNames: ['resumed'],
      registers: [registry],
    }),
    handshakeErrors: new Counter({
      name: 'netlab_tls_handshake_errors_total',
      help: 'TLS handshakes that failed (old protocol, no shared cipher, bad client certificate, timeout), by OpenSSL code',
      labelNames: ['code'],
      registers: [registry],
    }),
    clientErrors: new Counter({
      name: 'netlab_http_client_errors_total',
      help: 'HTTP/1.1 connections answered 400/408/431 and closed before a request was handled, by code',
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
    reloads: new Counter({
      name: 'netlab_tls_certificate_reloads_total',
      help: 'Certificate reloads, by result (failed: the current certificate was kept)',
      labelNames: ['result'],
      registers: [registry],
    }),
    redirects: new Counter({
      name: 'netlab_http_redirects_total',
      help: 'Plain HTTP requests on HTTP_REDIRECT_PORT answered with 308 to https',
      registers: [registry],
    }),
  };
}
