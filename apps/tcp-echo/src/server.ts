import net, { type AddressInfo } from 'node:net';
import { pipeline } from 'node:stream';
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
import { acceptProxyProtocol, connectionOrigin } from '@netlab/proxy-protocol';
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

  // Not socket.setTimeout: Node suppresses a socket's timeout while its
  // write queue has changed since the last check, so a client that stops
  // reading (our writes stall with bytes queued) was cut only at 2x
  // IDLE_TIMEOUT_MS. The sweep looks at bytes moved either way instead.
  const idle =
    config.IDLE_TIMEOUT_MS > 0
      ? sweepIdle(connections, config.IDLE_TIMEOUT_MS, (socket) => {
          reasons.set(socket, 'idle');
          socket.destroy();
        })
      : undefined;

  server.on('connection', (socket) => {
    const started = performance.now();
    // Read now: Node asks the kernel lazily, and a closed socket has no peer.
    // A connection reset before we accepted it has none even now (the
    // kernel forgets the peer of a reset socket, and libuv's accept() does
    // not keep the address): it is logged with `remoteAddress: null`.
    const remoteAddress = peerAddress(socket.remoteAddress) ?? null;
    const remotePort = socket.remotePort ?? null;
    // Behind a balancer sending a PROXY header: the real client (else the peer itself).
    const { client, proxy } = connectionOrigin(socket);
    connections.add(socket);
    metrics.connections.inc();
    metrics.active.inc();

    let errno: string | undefined;
    pipeline(socket, socket, (err?: NodeJS.ErrnoException | null) => {
      if (err && !reasons.has(socket)) {
        errno = err.code;
        reasons.set(socket, err.code === 'ECONNRESET' ? 'reset' : 'error');
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
          clientAddress: client.address,
          clientPort: client.port,
          ...(proxy === null
            ? {}
            : {
                proxy: {
                  version: proxy.version,
                  command: proxy.command,
                  protocol: proxy.protocol,
                  tlvs: proxy.tlvs,
                },
              }),
          bytesIn: socket.bytesRead,
          bytesOut: socket.bytesWritten,
          durationMs: Math.round(performance.now() - started),
          reason,
          ...(errno === undefined ? {} : { errno }),
        },
        'connection closed',
      );
    });
  });

  // Last: the gate holds back every 'connection' listener above until the
  // PROXY header (PROXY_PROTOCOL) is read.
  acceptProxyProtocol(server, config, { logger, registry });

  return {
    get connections() {
      return connections.size;
    },
    address: () => server.address() as AddressInfo | null,
    async listen() {
      await listen(server, config.PORT, config.HOST);
    },
    async close({ timeoutMs }) {
      try {
        await drain(server, connections, {
          timeoutMs,
          logger,
          onExpire: (socket) => reasons.set(socket, 'shutdown'),
        });
      } finally {
        idle?.stop();
      }
    },
  };
}
