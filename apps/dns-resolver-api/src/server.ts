import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  ConnectionSet,
  drain,
  type Logger,
  limitConnections,
  listen,
  peerAddress,
  type Registry,
  type Service,
  sweepIdle,
} from '@netlab/common';
import { installHttpGuards } from '@netlab/http-handlers';
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
      defaultTtlS: config.CACHE_DEFAULT_TTL_S,
      maxTtlS: config.CACHE_MAX_TTL_S,
      negativeTtlS: config.CACHE_NEGATIVE_TTL_S,
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
  });
  const connections = new ConnectionSet();
  const metrics = createResolverMetrics(deps.registry, {
    routes: handler.stats,
    resolution,
    lookups,
    openConnections: () => connections.size,
  });
  observeLatency = (type, seconds) => metrics.upstreamLatency.observe({ type }, seconds);
  logger.info({ servers: upstream.servers }, 'DNS servers for /resolve and /reverse');

  // Node refuses headersTimeout > requestTimeout.
  const headersTimeout =
    config.REQUEST_TIMEOUT_MS > 0
      ? Math.min(config.HEADERS_TIMEOUT_MS, config.REQUEST_TIMEOUT_MS)
      : config.HEADERS_TIMEOUT_MS;
  const server = http.createServer(
    {
      headersTimeout,
      requestTimeout: config.REQUEST_TIMEOUT_MS,
      keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
      maxHeaderSize: config.MAX_HEADER_SIZE,
      // Node checks the two timeouts above only this often (default 30 s).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersTimeout / 4))),
      noDelay: true,
    },
    handler,
  );
  server.keepAliveTimeout = config.KEEP_ALIVE_TIMEOUT_MS;
  const idle =
    config.IDLE_TIMEOUT_MS > 0
      ? sweepIdle(connections, config.IDLE_TIMEOUT_MS, (socket) => {
          metrics.idleClosed.inc();
          handler.noteCut(socket, 'NETLAB_ERR_IDLE_TIMEOUT', 'idle');
          logger.info(
            {
              remoteAddress: peerAddress(socket.remoteAddress),
              remotePort: socket.remotePort,
              idleMs: config.IDLE_TIMEOUT_MS,
              reason: 'idle',
            },
            'idle connection closed',
          );
          socket.destroy();
        })
      : undefined;

  server.on('connection', (socket: Socket) => {
    connections.add(socket);
    metrics.connections.inc();
  });
  limitConnections(server, {
    limit: config.MAX_CONNECTIONS,
    logger,
    onDrop: () => metrics.dropped.inc(),
  });
  // Parser refusals as JSON, Expect, CONNECT, lingering close and the
  // drain's keep-alive handling, as http-hello has them; the handler makes
  // the request-level checks (requestProblem).
  const guards = installHttpGuards(server, handler, {
    onClientError: (code) => metrics.clientErrors.inc({ code }),
    lingerMs: config.LINGER_TIMEOUT_MS,
    lingerBytes: config.LINGER_MAX_BYTES,
    allow: 'GET, HEAD, POST',
  });

  return {
    handler,
    resolution,
    lookups,
    address: () => server.address() as AddressInfo | null,
    async listen() {
      await listen(server, config.PORT, config.HOST);
    },
    async close({ timeoutMs }) {
      guards.drain();
      try {
        await drain(server, connections, {
          timeoutMs,
          logger,
          onExpire: (socket) => handler.noteCut(socket, 'NETLAB_ERR_SHUTTING_DOWN', 'shutdown'),
        });
      } finally {
        guards.stop();
        idle?.stop();
        // Whoever waited for these answers is gone: free c-ares' sockets and timers.
        upstream.cancel();
        handler.flushLog();
      }
    },
  };
}
