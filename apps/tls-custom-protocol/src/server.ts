import type { AddressInfo } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
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
import {
  type CertificateReloader,
  certificateLogFields,
  clientAuthOptions,
  handshakeFailure,
  type PreparedTls,
  secureContextOptions,
  watchCertificates,
} from '@netlab/tls';
import type { ProtocolConfig } from './config.js';
import { createProtocolMetrics } from './metrics.js';
import { ALPN } from './protocol.js';
import { type Connection, serveConnection } from './session.js';
import { FrameStats } from './stats.js';

export interface ProtocolServer extends Service {
  /** Connections open now (handshake done). */
  readonly connections: number;
  /** Reads the certificate files again (SIGHUP); new connections get a good new pair. */
  reloadCertificate: CertificateReloader['reload'];
}

export interface ProtocolDeps {
  logger: Logger;
  registry: Registry;
  /** The certificate, its source (for reloads) and the client-certificate policy, checked at start. */
  tls: PreparedTls;
}

/**
 * netlab/1 over `tls.createServer`: TLS (versions, ciphers, certificates,
 * client certificates) comes from `deps.tls`; this file adds ALPN, the
 * handshake deadline, the connection cap, the idle sweep and the drain, and
 * hands each connection to session.ts.
 */
export function createProtocolServer(config: ProtocolConfig, deps: ProtocolDeps): ProtocolServer {
  const { logger } = deps;
  const stats = new FrameStats();
  const connections = new ConnectionSet();
  const handles = new WeakMap<TLSSocket, Connection>();
  let closedBytesIn = 0;
  let closedBytesOut = 0;
  const metrics = createProtocolMetrics(deps.registry, stats, () => {
    let bytesIn = closedBytesIn;
    let bytesOut = closedBytesOut;
    let buffered = 0;
    for (const socket of connections) {
      bytesIn += socket.bytesRead;
      bytesOut += socket.bytesWritten;
      buffered += handles.get(socket as TLSSocket)?.buffered ?? 0;
    }
    return { bytesIn, bytesOut, buffered };
  });

  const server = tls.createServer({
    // TLS 1.2/1.3, Mozilla intermediate ciphers, certificates: as https-secure.
    ...secureContextOptions(deps.tls.credentials, deps.tls.clientAuth, deps.tls.sessionTickets),
    ...clientAuthOptions(deps.tls.clientAuth),
    // Required client certificates are enforced in 'secureConnection' below
    // rather than by Node: Node destroys a refused socket before anyone can
    // read it, so its refusals (an expired certificate, a foreign CA) were
    // logged without the peer's address. The client sees the same: a
    // completed handshake, then a close before any application data.
    rejectUnauthorized: false,
    ALPNProtocols: [ALPN],
    handshakeTimeout: config.TLS_HANDSHAKE_TIMEOUT_MS,
    // Before the handshake a FIN ends the connection at once: a load
    // balancer's health check (connect, then close) must not sit in
    // CLOSE_WAIT for TLS_HANDSHAKE_TIMEOUT_MS holding one of MAX_CONNECTIONS.
    // After it, a client that half-closes still gets every answer it asked
    // for (allowHalfOpen is set on each connection in 'secureConnection').
    allowHalfOpen: false,
    // Requests and answers are small frames: send each at once.
    noDelay: true,
  });
  limitConnections(server, {
    limit: config.MAX_CONNECTIONS,
    logger,
    onDrop: () => metrics.rejected.inc(),
  });

  /** A connection refused at the TLS level: counted by reason, logged with the peer, closed. */
  function refuse(
    socket: TLSSocket,
    reason: string,
    fields: { err?: string | undefined; authorizationError?: string | undefined },
  ): void {
    metrics.handshakeFailures.inc({ reason });
    logger.info(
      {
        remoteAddress: peerAddress(socket.remoteAddress),
        remotePort: socket.remotePort,
        reason,
        ...(fields.err === undefined ? {} : { err: fields.err }),
        ...(fields.authorizationError === undefined
          ? {}
          : { authorizationError: fields.authorizationError }),
      },
      'TLS handshake failed',
    );
    socket.destroy();
  }

  server.on('secureConnection', (socket: TLSSocket) => {
    if (deps.tls.clientAuth?.required && !socket.authorized) {
      const sent = socket.getPeerX509Certificate() !== undefined;
      refuse(socket, sent ? 'bad_certificate' : 'no_certificate', {
        authorizationError: sent ? String(socket.authorizationError) : undefined,
      });
      return;
    }
    // Duplex#allowHalfOpen: documented as changeable until 'end' is emitted.
    socket.allowHalfOpen = true;
    connections.add(socket);
    metrics.connections.inc();
    metrics.active.inc();
    const connection = serveConnection(socket, {
      config,
      logger,
      stats,
      peerAddress: peerAddress(socket.remoteAddress),
      // Read now: the gate forgets a connection's header once it closes.
      origin: connectionOrigin(socket),
      onClose(reason) {
        closedBytesIn += socket.bytesRead;
        closedBytesOut += socket.bytesWritten;
        metrics.active.dec();
        metrics.closed.inc({ reason });
      },
    });
    handles.set(socket, connection);
  });

  server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    // Node reports a handshake timeout here but leaves the socket open:
    // refuse() closes it. (A socket already closed, e.g. by a FIN before the
    // handshake, no longer knows its peer: those lines have no address.)
    refuse(socket, handshakeFailure(err.code), { err: err.code });
  });

  // Last: a PROXY header (PROXY_PROTOCOL) comes before the ClientHello, so
  // the gate holds back TLS's own 'connection' listener until it is read.
  acceptProxyProtocol(server, config, { logger, registry: deps.registry });

  let reloader: CertificateReloader | undefined;
  const idle =
    config.IDLE_TIMEOUT_MS > 0
      ? sweepIdle(connections, config.IDLE_TIMEOUT_MS, (socket) =>
          handles.get(socket as TLSSocket)?.idle(),
        )
      : undefined;

  return {
    get connections() {
      return connections.size;
    },
    reloadCertificate: (reason) => reloader?.reload(reason) ?? Promise.resolve('no-files'),
    address: () => server.address() as AddressInfo | null,
    async listen() {
      logger.info(
        { source: deps.tls.source.kind, ...certificateLogFields(deps.tls.credentials) },
        'serving certificate',
      );
      await listen(server, config.PORT, config.HOST);
      reloader = watchCertificates(server, deps.tls, {
        logger,
        watchIntervalMs: config.TLS_WATCH_INTERVAL_MS,
        onResult: (result) => metrics.reloads.inc({ result }),
      });
    },
    async close({ timeoutMs }) {
      reloader?.stop();
      for (const socket of connections) handles.get(socket as TLSSocket)?.drain();
      try {
        await drain(server, connections, {
          timeoutMs,
          logger,
          onExpire: (socket) => handles.get(socket as TLSSocket)?.expire(),
        });
      } finally {
        idle?.stop();
      }
    },
  };
}
