import { Counter, Gauge, type Registry } from '@netlab/common';

/** The connection series every netlab HTTP server reports, under the same names. */
export interface ConnectionMetrics {
  connections: Counter<never>;
  clientErrors: Counter<'code'>;
  dropped: Counter<never>;
  idleClosed: Counter<never>;
}

/**
 * Registers the `netlab_http_connections_*` and `netlab_http_client_errors_total`
 * series on `registry` (the open-connections gauge reads `openConnections`
 * at scrape time) and returns the counters the server bumps. One
 * declaration for http-hello, https-secure, dns-resolver-api and
 * video-streamer, so a dashboard reads them all alike.
 */
export function createConnectionMetrics(
  registry: Registry,
  openConnections: () => number,
): ConnectionMetrics {
  new Gauge({
    name: 'netlab_http_connections_active',
    help: 'HTTP connections open now (TLS: past the handshake)',
    registers: [registry],
    collect() {
      this.set(openConnections());
    },
  });
  return {
    connections: new Counter({
      name: 'netlab_http_connections_total',
      help: 'HTTP connections accepted (TLS: that completed the handshake)',
      registers: [registry],
    }),
    clientErrors: new Counter({
      name: 'netlab_http_client_errors_total',
      help: "Requests Node's parser refused (bad syntax, headers too large, a timeout, a broken chunked body), answered with that code and closed",
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

/** Request counts kept as plain numbers by whoever serves them (RequestStats, or an app's own). */
export interface RequestCounts {
  entries(): Iterable<{ route: string; status: number; count: number }>;
  readonly inFlight: number;
  /** Answer control's injected faults by kind (RequestStats has them). */
  faultEntries?(): Iterable<{ kind: string; count: number }>;
}

/**
 * The request series (`netlab_http_requests_total` by route and status,
 * `netlab_http_requests_in_flight`), read from `stats` at scrape time so
 * serving a request touches no metric object, plus the connection series
 * above.
 */
export function createHttpMetrics(
  registry: Registry,
  stats: RequestCounts,
  openConnections: () => number,
): ConnectionMetrics {
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
  if (stats.faultEntries !== undefined) {
    const faults = stats.faultEntries.bind(stats);
    new Counter({
      name: 'netlab_http_injected_faults_total',
      help: 'Faults injected by answer control (?status=, ?delay=, ?size=, ?close, ?header=), by kind',
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { kind, count } of faults()) this.inc({ kind }, count);
      },
    });
  }
  new Gauge({
    name: 'netlab_http_requests_in_flight',
    help: 'HTTP requests received and not yet answered',
    registers: [registry],
    collect() {
      this.set(stats.inFlight);
    },
  });
  return createConnectionMetrics(registry, openConnections);
}
