import net, { type AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';
import {
  ConnectionSet,
  drain,
  type Logger,
  limitConnections,
  listen,
  type Registry,
  type Service,
} from '@netlab/common';
import type { EchoConfig } from './config.js';
import { type CloseReason, createEchoMetrics } from './metrics.js';

export interface EchoServer extends Service {
  /** Connections open now. */
  readonly connections: number;
}

export interface EchoDeps {
  logger: Logger;
  registry: Registry;
}

/**
 * RFC 862 echo over TCP. The whole protocol is `pipeline(socket, socket)`:
 * the pipe stops reading while the socket's write buffer is full, so a client
 * that sends without reading fills its own kernel buffers, not our heap.
 */
export function createEchoServer(config: EchoConfig, { logger, registry }: EchoDeps): EchoServer {
  const connections = new ConnectionSet();
  const reasons = new WeakMap<net.Socket, CloseReason>();
  let closedBytesIn = 0;
  let closedBytesOut = 0;

  const metrics = createEchoMetrics(registry, () => {
    let bytesIn = closedBytesIn;
    let bytesOut = closedBytesOut;
    for (const socket of connections) {
      bytesIn += socket.bytesRead;
      bytesOut += socket.bytesWritten;
    }
    return { bytesIn, bytesOut };
  });

  const server = net.createServer({
    // RFC 862 with half-close: a client that shuts down its sending side
    // still gets every byte it sent. Without allowHalfOpen Node would end our
    // side as soon as the client's FIN arrives.
    allowHalfOpen: true,
    noDelay: config.TCP_NODELAY,
    keepAlive: config.TCP_KEEPALIVE_MS > 0,
    keepAliveInitialDelay: config.TCP_KEEPALIVE_MS,
  });
  limitConnections(server, {
    limit: config.MAX_CONNECTIONS,
    logger,
    onDrop: () => metrics.rejected.inc(),
  });

  server.on('connection', (socket) => {
    const started = performance.now();
    const remoteAddress = socket.remoteAddress;
    const remotePort = socket.remotePort;
    connections.add(socket);
    metrics.connections.inc();
    metrics.active.inc();

    if (config.IDLE_TIMEOUT_MS > 0) {
      socket.setTimeout(config.IDLE_TIMEOUT_MS, () => {
        reasons.set(socket, 'idle');
        socket.destroy();
      });
    }

    pipeline(socket, socket, (err) => {
      if (err && !reasons.has(socket)) {
        reasons.set(socket, 'error');
        logger.debug({ err, remoteAddress, remotePort }, 'connection error');
      }
    });

    socket.once('close', () => {
      const reason = reasons.get(socket) ?? 'end';
      closedBytesIn += socket.bytesRead;
      closedBytesOut += socket.bytesWritten;
      metrics.active.dec();
      metrics.closed.inc({ reason });
      logger.info(
        {
          remoteAddress,
          remotePort,
          bytesIn: socket.bytesRead,
          bytesOut: socket.bytesWritten,
          durationMs: Math.round(performance.now() - started),
          reason,
        },
        'connection closed',
      );
    });
  });

  return {
    get connections() {
      return connections.size;
    },
    address: () => server.address() as AddressInfo | null,
    async listen() {
      await listen(server, config.PORT, config.HOST);
    },
    async close({ timeoutMs }) {
      await drain(server, connections, {
        timeoutMs,
        logger,
        onExpire: (socket) => reasons.set(socket, 'shutdown'),
      });
    },
  };
}
