import type { AddressInfo } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { ConnectionSet, type Logger, listen, type Registry, type Service } from '@netlab/common';
import {
  createHttpHandler,
  type HttpHandler,
  installWebSocketEcho,
  serveHttp,
} from '@netlab/http-handlers';
import { acceptProxyProtocol, accessOrigin, connectionOrigin } from '@netlab/proxy-protocol';
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
 * node:http server whose every limit comes from config (serveHttp): header
 * and request timeouts against slowloris, a header size cap (431), idle and
 * keep-alive timeouts, a connection cap. Drains gracefully: in-flight
 * requests finish and are answered with `Connection: close`, idle
 * keep-alive sockets close.
 */
export function createHelloServer(config: HelloConfig, deps: HelloDeps): HelloServer {
  const { logger } = deps;
  const handler = createHttpHandler({
    helloMessage: config.HELLO_MESSAGE,
    maxBodyBytes: config.MAX_BODY_BYTES,
    maxDelayMs: config.MAX_DELAY_MS,
    answerControl: config.ANSWER_CONTROL,
    maxAnswerBytes: config.MAX_ANSWER_BYTES,
    maxAnswerHeaders: config.MAX_ANSWER_HEADERS,
    maxStreamMs: config.MAX_STREAM_MS,
    maxHeadersCount: config.MAX_HEADERS_COUNT,
    version: deps.version,
    pid: deps.pid,
    hostname: deps.hostname ?? osHostname(),
    logger,
    sharedLogOutput: deps.sharedLogOutput ?? false,
    // The TCP peer (a balancer, with PROXY_PROTOCOL) and the client: from
    // the PROXY header when one was read, else the peer itself. Never from
    // X-Forwarded-For, which /whoami shows as sent, untrusted.
    whoamiExtra: (req) => ({ ...connectionOrigin(req.socket) }),
    ...(config.PROXY_PROTOCOL === 'off'
      ? {}
      : {
          accessOrigin: (req) => accessOrigin(req.socket),
        }),
  });
  const connections = new ConnectionSet();
  const metrics = createHelloMetrics(deps.registry, handler.stats, () => connections.size);

  const serving = serveHttp(handler, config, { logger, metrics, connections });
  // WebSocket echo at /ws: the server's 'upgrade' listener.
  const websockets = installWebSocketEcho(serving.server, handler, {
    logger,
    registry: deps.registry,
    maxMessageBytes: config.WS_MAX_MESSAGE_BYTES,
    maxFragments: config.WS_MAX_FRAGMENTS,
    maxConnections: config.WS_MAX_CONNECTIONS,
    idleTimeoutMs: config.WS_IDLE_TIMEOUT_MS,
    maxDelayMs: config.MAX_DELAY_MS,
    answerControl: config.ANSWER_CONTROL,
  });
  // Last: holds back every 'connection' listener serveHttp added until the
  // PROXY header is read (PROXY_PROTOCOL; off: nothing changes).
  acceptProxyProtocol(serving.server, config, { logger, registry: deps.registry });

  return {
    handler,
    get connections() {
      return connections.size;
    },
    address: () => serving.server.address() as AddressInfo | null,
    async listen() {
      await listen(serving.server, config.PORT, config.HOST);
    },
    close: ({ timeoutMs }) => {
      // Close 1001 (going away) to every WebSocket, as HTTP answers get Connection: close.
      websockets.drain();
      return serving.close(timeoutMs);
    },
  };
}
