import http from 'node:http';
import type { Socket } from 'node:net';
import {
  type ConnectionSet,
  drain,
  type Logger,
  limitConnections,
  peerAddress,
  sweepIdle,
} from '@netlab/common';
import type { ConnectionMetrics } from './connection-metrics.js';
import type { HttpErrorCode } from './errors.js';
import { type GuardedHandler, installHttpGuards, isServing } from './guards.js';
import type { CutReason } from './handler.js';

/** The limits every netlab node:http server takes from its config. */
export interface HttpServerLimits {
  HEADERS_TIMEOUT_MS: number;
  /** The whole request; 0: none. */
  REQUEST_TIMEOUT_MS: number;
  KEEP_ALIVE_TIMEOUT_MS: number;
  MAX_HEADER_SIZE: number;
  /** No traffic either way for this long closes a connection; 0: never. */
  IDLE_TIMEOUT_MS: number;
  MAX_CONNECTIONS: number;
  LINGER_TIMEOUT_MS: number;
  LINGER_MAX_BYTES: number;
}

/** A request listener with the hooks serveHttp wires around it. */
export interface ServedHandler extends GuardedHandler {
  (req: http.IncomingMessage, res: http.ServerResponse): void;
  /** The server is about to cut `socket`: a request on it is logged with this code and reason, not 499. */
  noteCut(socket: object, code: HttpErrorCode, reason: CutReason): void;
  /** Hands pending access log lines to the logger now. */
  flushLog(): void;
}

export interface ServeHttpDeps {
  logger: Logger;
  metrics: ConnectionMetrics;
  /** The app's open connections (its metrics read the count). */
  connections: ConnectionSet;
  /** The methods the server takes, for the `Allow` of CONNECT's 405. */
  allow?: string;
}

export interface HttpServing {
  readonly server: http.Server;
  /**
   * Graceful shutdown: every response from now on says `Connection: close`,
   * keep-alive connections close once quiet, the rest get `timeoutMs` and
   * are then cut (logged as the shutdown's cut). `afterDrain` runs before
   * the access log's last lines are handed over.
   */
  close(timeoutMs: number, afterDrain?: () => void): Promise<void>;
}

/**
 * A node:http server for `handler` with every limit of netlab's HTTP apps
 * (http-hello, dns-resolver-api, video-streamer): header and request
 * timeouts against slowloris, a header size cap (431), keep-alive and idle
 * timeouts, a connection cap, installHttpGuards' hardening, and a graceful
 * drain. The app still listens, and adds what is its own.
 */
export function serveHttp(
  handler: ServedHandler,
  limits: HttpServerLimits,
  deps: ServeHttpDeps,
): HttpServing {
  const { logger, metrics, connections } = deps;
  // Node refuses headersTimeout > requestTimeout; a header deadline past the
  // whole-request deadline would never fire anyway.
  const headersTimeout =
    limits.REQUEST_TIMEOUT_MS > 0
      ? Math.min(limits.HEADERS_TIMEOUT_MS, limits.REQUEST_TIMEOUT_MS)
      : limits.HEADERS_TIMEOUT_MS;
  const server = http.createServer(
    {
      headersTimeout,
      requestTimeout: limits.REQUEST_TIMEOUT_MS,
      keepAliveTimeout: limits.KEEP_ALIVE_TIMEOUT_MS,
      maxHeaderSize: limits.MAX_HEADER_SIZE,
      // Node checks the two timeouts above only this often (default 30 s),
      // so a slowloris client would otherwise outlive its deadline by up to that.
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersTimeout / 4))),
      noDelay: true,
    },
    handler,
  );
  server.keepAliveTimeout = limits.KEEP_ALIVE_TIMEOUT_MS;
  const idle = closeIdleHttp(connections, limits.IDLE_TIMEOUT_MS, { logger, metrics, handler });
  server.on('connection', (socket: Socket) => {
    connections.add(socket);
    metrics.connections.inc();
  });
  limitConnections(server, {
    limit: limits.MAX_CONNECTIONS,
    logger,
    onDrop: () => metrics.dropped.inc(),
  });
  // Parser refusals, Expect, CONNECT, lingering close and the drain's
  // keep-alive handling; the handler makes the request-level checks.
  const guards = installHttpGuards(server, handler, {
    onClientError: (code) => metrics.clientErrors.inc({ code }),
    lingerMs: limits.LINGER_TIMEOUT_MS,
    lingerBytes: limits.LINGER_MAX_BYTES,
    ...(deps.allow === undefined ? {} : { allow: deps.allow }),
  });

  return {
    server,
    async close(timeoutMs, afterDrain) {
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
        afterDrain?.();
        handler.flushLog();
      }
    },
  };
}

/**
 * Closes the connections with no traffic either way for `idleMs` (0: never)
 * and no request being worked on (see isServing),
 * counted, logged, and noted on the handler so a request still on one is
 * logged as the idle cut. Not server.timeout: see sweepIdle for why idle
 * connections are found by a sweep. (https-secure's HTTP/2 sessions too,
 * which node:http's keep-alive timeout never sees.)
 */
export function closeIdleHttp(
  connections: ConnectionSet,
  idleMs: number,
  deps: {
    logger: Logger;
    metrics: Pick<ConnectionMetrics, 'idleClosed'>;
    handler: Pick<ServedHandler, 'noteCut'>;
  },
): { stop(): void } | undefined {
  if (idleMs <= 0) return undefined;
  const { logger, metrics, handler } = deps;
  return sweepIdle(connections, idleMs, (socket) => {
    // Idle is the time between requests (Go's IdleTimeout): a request the
    // server is still working on (`/delay/2500` with a 2 s idle timeout) is
    // not cut; the sweep looks again at its next round.
    if (isServing(socket)) return;
    metrics.idleClosed.inc();
    handler.noteCut(socket, 'NETLAB_ERR_IDLE_TIMEOUT', 'idle');
    logger.info(
      {
        remoteAddress: peerAddress(socket.remoteAddress),
        remotePort: socket.remotePort,
        idleMs,
        reason: 'idle',
      },
      'idle connection closed',
    );
    socket.destroy();
  });
}
