import { Counter, Gauge, type Registry } from '@netlab/common';
import type { RequestStats } from '@netlab/http-handlers';

export interface HelloMetrics {
  connections: Counter<never>;
  clientErrors: Counter<'code'>;
  dropped: Counter<never>;
  idleClosed: Counter<never>;
}

/**
 * Request counts and open connections are read at scrape time (from the
 * handler's RequestStats and the server's ConnectionSet) rather than bumped
 * per request, so serving a request touches no metric object at all.
 */
export function createHelloMetrics(
  registry: Registry,
  stats: RequestStats,
  openConnections: () => number,
): HelloMetrics {
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
    help: 'HTTP connections open now',
    registers: [registry],
    collect() {
      this.set(openConnections());
    },
  });
  return {
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
