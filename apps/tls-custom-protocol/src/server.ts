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
 * Names for why a handshake failed, from the codes Node and OpenSSL give,
 * so a dashboard can tell a scanner speaking plain HTTP from a client whose
 * certificate is wrong. Anything not listed is `other`.
 */
function handshakeFailure(code: string | undefined): string {
  switch (code) {
    case 'ERR_TLS_HANDSHAKE_TIMEOUT':
      return 'timeout';
    case 'ERR_SSL_NO_APPLICATION_PROTOCOL':
      return 'no_alpn';
    case 'ERR_SSL_UNSUPPORTED_PROTOCOL':
    case 'ERR_SSL_NO_SHARED_CIPHER':
    case 'ERR_SSL_NO_PROTOCOLS_AVAILABLE':
    case 'ERR_SSL_VERSION_TOO_LOW':
      return 'protocol_version';
    case 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE':
      return 'no_certificate';
    case 'ERR_SSL_CERTIFICATE_VERIFY_FAILED':
    case 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA':
    case 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE':
      return 'bad_certificate';
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
    case 'ERR_SSL_HTTP_REQUEST':
    case 'ERR_SSL_PACKET_LENGTH_TOO_LONG':
      return 'not_tls';
    case 'ECONNRESET':
      return 'reset';
    default:
      return 'other';
  }
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
      buffered += socket.writableLength;
    }
    return { bytesIn, bytesOut, buffered };
  });

  const server = tls.createServer({
    // TLS 1.2/1.3, Mozilla intermediate ciphers, certificates: as https-secure.
    ...secureContextOptions(deps.tls.credentials, deps.tls.clientAuth, deps.tls.sessionTickets),
    ...clientAuthOptions(deps.tls.clientAuth),
    ALPNProtocols: [ALPN],
    handshakeTimeout: config.TLS_HANDSHAKE_TIMEOUT_MS,
    // A client that half-closes still gets every answer it asked for.
    allowHalfOpen: true,
    // Requests and answers are small frames: send each at once.
    noDelay: true,
  });
  limitConnections(server, {
    limit: config.MAX_CONNECTIONS,
    logger,
    onDrop: () => metrics.rejected.inc(),
  });

  server.on('secureConnection', (socket: TLSSocket) => {
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
    // Node checks a client certificate itself after OpenSSL's handshake and,
    // when it is refused, destroys the socket: the error it reports is then
    // a bare ECONNRESET, and only authorizationError says why.
    const certError = (socket as TLSSocket & { authorizationError?: Error | string })
      .authorizationError;
    const reason = certError ? 'bad_certificate' : handshakeFailure(err.code);
    metrics.handshakeFailures.inc({ reason });
    logger.info(
      {
        remoteAddress: peerAddress(socket.remoteAddress),
        remotePort: socket.remotePort,
        reason,
        err: err.code,
        ...(certError ? { authorizationError: String(certError) } : {}),
      },
      'TLS handshake failed',
    );
    // Node reports a handshake timeout here but leaves the socket open.
    socket.destroy();
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
