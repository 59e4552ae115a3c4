import type { AddressInfo } from 'node:net';
import { ConnectionSet, type Logger, listen, type Registry, type Service } from '@netlab/common';
import { serveHttp } from '@netlab/http-handlers';
import { acceptProxyProtocol, accessOrigin } from '@netlab/proxy-protocol';
import { type ApiHandler, createApiHandler } from './api.js';
import type { ResolverApiConfig } from './config.js';
import { createLookups, type LookupFn, type Lookups } from './lookup.js';
import { createResolverMetrics } from './metrics.js';
import { Resolution } from './resolution.js';
import { createUpstream } from './upstream.js';

export interface ResolverServer extends Service {
  readonly handler: ApiHandler;
  readonly resolution: Resolution;
  readonly lookups: Lookups;
}

export interface ResolverDeps {
  logger: Logger;
  registry: Registry;
  /** getaddrinfo for /lookup; default `dns.promises.lookup`. */
  lookup?: LookupFn;
  /** Milliseconds since the epoch, for cache ages; default Date.now. */
  now?: () => number;
}

/**
 * The DNS API on a node:http server whose every limit comes from config:
 * header and request timeouts against slowloris, a header size cap (431),
 * idle and keep-alive timeouts, a connection cap. Drains gracefully:
 * requests waiting for a DNS answer get it, with `Connection: close`; then
 * any query still out is cancelled.
 */
export function createResolverServer(
  config: ResolverApiConfig,
  deps: ResolverDeps,
): ResolverServer {
  const { logger } = deps;
  const upstream = createUpstream({
    servers: config.DNS_SERVERS,
    timeoutMs: config.DNS_TIMEOUT_MS,
    tries: config.DNS_TRIES,
    maxInFlight: config.DNS_MAX_IN_FLIGHT,
    demoZone: config.DNS_DEMO_ZONE,
  });
  const lookups = createLookups({
    concurrency: config.LOOKUP_CONCURRENCY,
    queueSize: config.LOOKUP_QUEUE_SIZE,
    ...(deps.lookup ? { lookup: deps.lookup } : {}),
  });
  let observeLatency: (type: string, seconds: number) => void = () => {};
  const resolution = new Resolution({
    upstream,
    maxEntries: config.CACHE_MAX_ENTRIES,
    policy: {
      maxTtlS: config.CACHE_MAX_TTL_S,
      negativeTtlS: config.CACHE_NEGATIVE_TTL_S,
      failureTtlS: config.CACHE_FAILURE_TTL_S,
    },
    observeLatency: (type, seconds) => observeLatency(type, seconds),
    ...(deps.now ? { now: deps.now } : {}),
  });
  const handler = createApiHandler({
    resolution,
    lookups,
    logger,
    batchMaxQueries: config.BATCH_MAX_QUERIES,
    maxBodyBytes: config.MAX_BODY_BYTES,
    maxHeadersCount: config.MAX_HEADERS_COUNT,
    // Behind a PROXY protocol balancer: the peer and the client on each access line.
    ...(config.PROXY_PROTOCOL === 'off' ? {} : { accessOrigin: (req) => accessOrigin(req.socket) }),
  });
  const connections = new ConnectionSet();
  const metrics = createResolverMetrics(deps.registry, {
    routes: handler.stats,
    resolution,
    lookups,
    openConnections: () => connections.size,
  });
  observeLatency = (type, seconds) => metrics.upstreamLatency.observe({ type }, seconds);
  logger.info(
    { servers: upstream.servers, demoZone: config.DNS_DEMO_ZONE },
    'DNS servers for /resolve and /reverse',
  );

  const serving = serveHttp(handler, config, {
    logger,
    metrics,
    connections,
    allow: 'GET, HEAD, POST',
  });
  // Last: holds back every 'connection' listener serveHttp added until the
  // PROXY header is read (PROXY_PROTOCOL; off: nothing changes).
  acceptProxyProtocol(serving.server, config, { logger, registry: deps.registry });

  return {
    handler,
    resolution,
    lookups,
    address: () => serving.server.address() as AddressInfo | null,
    async listen() {
      await listen(serving.server, config.PORT, config.HOST);
    },
    // Whoever waited for the answers still out is gone: free their sockets and timers.
    close: ({ timeoutMs }) => serving.close(timeoutMs, () => upstream.cancel()),
  };
}
