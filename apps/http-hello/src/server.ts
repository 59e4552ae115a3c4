import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { hostname as osHostname } from 'node:os';
import {
  ConnectionSet,
  drain,
  type Logger,
  limitConnections,
  listen,
  type Registry,
  type Service,
  sweepIdle,
} from '@netlab/common';
import {
  createHttpHandler,
  type HttpHandler,
  installHttpGuards,
  unmapped,
} from '@netlab/http-handlers';
import type { HelloConfig } from './config.js';
import { createHelloMetrics } from './metrics.js';

export interface HelloServer extends Service {
  readonly handler: HttpHandler;
  /** Connections open now. */
  readonly connections: number;
}

export interface HelloDeps {
  logger: Logger;
  registry: Registry;
  /** Reported by /whoami, so behind a load balancer you see which replica answered. */
  version: string;
  pid: number;
  hostname?: string;
  /** Set in cluster workers, which share the primary's stdout. */
  sharedLogOutput?: boolean;
}

/**
 * hello, whoami, echo, status and delay (see @netlab/http-handlers) on a
 * node:http server whose every limit comes from config: header and request
 * timeouts against slowloris, a header size cap (431), idle and keep-alive
 * timeouts, a connection cap. Drains gracefully: in-flight requests finish
 * and are answered with `Connection: close`, idle keep-alive sockets close.
 */
export function createHelloServer(config: HelloConfig, deps: HelloDeps): HelloServer {
  const { logger } = deps;
  const handler = createHttpHandler({
    helloMessage: config.HELLO_MESSAGE,
    maxBodyBytes: config.MAX_BODY_BYTES,
    maxDelayMs: config.MAX_DELAY_MS,
    maxHeadersCount: config.MAX_HEADERS_COUNT,
    version: deps.version,
    pid: deps.pid,
    hostname: deps.hostname ?? osHostname(),
    logger,
    sharedLogOutput: deps.sharedLogOutput ?? false,
  });
  const connections = new ConnectionSet();
  const metrics = createHelloMetrics(deps.registry, handler.stats, () => connections.size);

  // Node refuses headersTimeout > requestTimeout; a header deadline past the
  // whole-request deadline would never fire anyway.
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
      // Node checks the two timeouts above only this often (default 30 s),
      // so a slowloris client would otherwise outlive its deadline by up to that.
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersTimeout / 4))),
      noDelay: true,
    },
    handler,
  );
  server.keepAliveTimeout = config.KEEP_ALIVE_TIMEOUT_MS;
  // Not server.timeout: see sweepIdle for why idle connections are found by a sweep.
  const idle =
    config.IDLE_TIMEOUT_MS > 0
      ? sweepIdle(connections, config.IDLE_TIMEOUT_MS, (socket) => {
          metrics.idleClosed.inc();
          handler.noteCut(socket, 'NETLAB_ERR_IDLE_TIMEOUT', 'idle');
          logger.info(
            {
              remoteAddress: unmapped(socket.remoteAddress).address,
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
  // Parser refusals, Expect, CONNECT, lingering close and the drain's
  // keep-alive handling: shared with https-secure.
  const guards = installHttpGuards(server, handler, {
    onClientError: (code) => metrics.clientErrors.inc({ code }),
    lingerMs: config.LINGER_TIMEOUT_MS,
    lingerBytes: config.LINGER_MAX_BYTES,
  });

  return {
    handler,
    get connections() {
      return connections.size;
    },
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
        handler.flushLog();
      }
    },
  };
}
