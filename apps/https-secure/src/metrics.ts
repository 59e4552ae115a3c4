import { Counter, Gauge, type Registry } from '@netlab/common';
import {
  type ConnectionMetrics,
  createHttpMetrics,
  type RequestStats,
} from '@netlab/http-handlers';

export interface HttpsMetrics extends ConnectionMetrics {
  handshakes: Counter<'resumed'>;
  handshakeErrors: Counter<'code'>;
  reloads: Counter<'result'>;
  redirects: Counter<never>;
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
): HttpsMetrics {
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
      help: 'TLS handshakes that failed (old protocol, no shared cipher, bad client certificate, timeout), by OpenSSL code',
      labelNames: ['code'],
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
