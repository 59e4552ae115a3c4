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
  type HttpErrorCode,
  type HttpHandler,
  rawErrorResponse,
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

// How often, during a drain, keep-alive connections that have just gone idle
// are closed. Node's server.close() closes the ones idle at that moment; one
// that finishes its in-flight response later would otherwise sit out its
// keep-alive timeout and hold the drain open.
const DRAIN_SWEEP_MS = 100;

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
          logger.info(
            {
              remoteAddress: socket.remoteAddress,
              remotePort: socket.remotePort,
              idleMs: config.IDLE_TIMEOUT_MS,
            },
            'idle connection closed',
          );
          socket.destroy();
        })
      : undefined;
  // Without this listener Node answers `Expect: 100-continue` itself, and an
  // oversized echo body would be invited before we could refuse it.
  server.on('checkContinue', handler.checkContinue);

  server.on('connection', (socket: Socket) => {
    connections.add(socket);
    metrics.connections.inc();
  });
  limitConnections(server, {
    limit: config.MAX_CONNECTIONS,
    logger,
    onDrop: () => metrics.dropped.inc(),
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const code = clientErrorCode(err.code);
    if (code === undefined || !socket.writable) {
      socket.destroy();
      return;
    }
    metrics.clientErrors.inc({ code });
    logger.info(
      { code, err: err.code, remoteAddress: socket.remoteAddress, remotePort: socket.remotePort },
      'client error: connection closed',
    );
    // Node's own default handler makes the same check: a response already
    // under way (a request timeout mid-echo) cannot get a second status line.
    const current = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (current?.headersSent) {
      socket.destroy();
      return;
    }
    socket.end(rawErrorResponse(code), () => socket.destroy());
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
      handler.drain();
      const drained = drain(server, connections, { timeoutMs, logger });
      server.closeIdleConnections();
      const sweep = setInterval(() => server.closeIdleConnections(), DRAIN_SWEEP_MS);
      try {
        await drained;
      } finally {
        clearInterval(sweep);
        idle?.stop();
        handler.flushLog();
      }
    },
  };
}

function clientErrorCode(code: string | undefined): HttpErrorCode | undefined {
  switch (code) {
    // The client went away or reset: nobody to answer.
    case 'ECONNRESET':
    case 'EPIPE':
      return undefined;
    case 'HPE_HEADER_OVERFLOW':
      return 'NETLAB_ERR_HEADERS_TOO_LARGE';
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 'NETLAB_ERR_REQUEST_TIMEOUT';
    default:
      return 'NETLAB_ERR_BAD_REQUEST';
  }
}
