import type { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { ClientAuth } from './settings.js';

/** Why a TLS handshake failed, as a small fixed set for a metric label. */
export type HandshakeFailure =
  | 'timeout'
  | 'no_alpn'
  | 'protocol_version'
  | 'no_certificate'
  | 'bad_certificate'
  | 'not_tls'
  | 'reset'
  | 'other';

/** Node's / OpenSSL's error code of a failed handshake → HandshakeFailure. */
export function handshakeFailure(code: string | undefined): HandshakeFailure {
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
    case 'EPIPE':
      return 'reset';
    default:
      return 'other';
  }
}

/** What a server decided about the client certificate of a finished handshake. */
export interface ClientVerdict {
  /** false: refuse the connection (TLS_CLIENT_AUTH=required and no valid certificate). */
  accept: boolean;
  /** The certificate the client sent, if any. */
  certificate: X509Certificate | undefined;
  /** OpenSSL's verdict when it is not authorized: `CERT_HAS_EXPIRED`, `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, `NO_CERTIFICATE`… */
  authorizationError?: string;
}

/**
 * The client-certificate check of a TLS server, made in the server's own
 * 'secureConnection' listener instead of by Node (`rejectUnauthorized`,
 * which the server must then leave false).
 *
 * Why not let Node refuse: Node destroys the socket first and reports it as a
 * bare `ECONNRESET` (an expired certificate logged as a client hang-up, at
 * debug), by which time the socket has forgotten its peer address. Here the
 * socket is still open, so the refusal can be logged with the peer and the
 * real reason (`authorizationError`) and counted.
 *
 * It also reads the peer certificate at once, which works around an OpenSSL
 * error-queue leak in Node 20/24: when a client certificate fails its
 * signature check (a foreign CA with the same name as ours), OpenSSL leaves
 * an error on the thread's queue that the next SSL_read of this connection
 * reports as a fatal error (`400 malformed` on HTTP/1, a framing error on
 * HTTP/2, `ERR_SSL_EVP_LIB` on the next handshake). getPeerX509Certificate()
 * clears that queue (Node's X509 code runs under ClearErrorOnReturn), so an
 * `optional` client with a foreign certificate is served with
 * `authorized: false`, as it is over TLS 1.3 with a distinct CA name.
 */
export function clientVerdict(
  socket: TLSSocket,
  clientAuth: ClientAuth | undefined,
): ClientVerdict {
  if (clientAuth === undefined) return { accept: true, certificate: undefined };
  const certificate = socket.getPeerX509Certificate();
  if (socket.authorized) return { accept: true, certificate };
  const authorizationError =
    certificate === undefined ? 'NO_CERTIFICATE' : String(socket.authorizationError ?? 'UNKNOWN');
  return { accept: !clientAuth.required, certificate, authorizationError };
}
