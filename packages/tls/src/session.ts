import type { TLSSocket } from 'node:tls';
import { type CertificateInfo, describeCertificate } from './credentials.js';

/** The TLS side of a connection, as /whoami reports it. */
export interface TlsSessionInfo {
  /** `TLSv1.3`, `TLSv1.2`. */
  version: string | null;
  /** OpenSSL's name (`TLS_AES_256_GCM_SHA384`, `ECDHE-ECDSA-AES128-GCM-SHA256`). */
  cipher: string;
  /** Negotiated by ALPN: `h2`, `http/1.1`, or false when the client offered none. */
  alpnProtocol: string | false;
  /** The host name the client asked for (SNI), or false when it sent none (IP literals never carry SNI). */
  servername: string | false;
  /** True when the session was resumed from a ticket: no full handshake. */
  resumed: boolean;
  clientCertificate: ClientCertificateInfo | null;
}

export interface ClientCertificateInfo extends CertificateInfo {
  /** True when it chains to TLS_CLIENT_CA_FILE; in optional mode an unverified one is let in and shown. */
  authorized: boolean;
  /** Why it is not authorized (OpenSSL's code, e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE). */
  authorizationError?: string;
}

/** Reads a TLS socket's negotiated session; cheap enough to call per request. */
export function describeTlsSession(socket: TLSSocket): TlsSessionInfo {
  const cert = socket.getPeerX509Certificate();
  let clientCertificate: ClientCertificateInfo | null = null;
  if (cert !== undefined) {
    clientCertificate = { ...describeCertificate(cert), authorized: socket.authorized };
    if (!socket.authorized && socket.authorizationError) {
      clientCertificate.authorizationError = String(socket.authorizationError);
    }
  }
  return {
    version: socket.getProtocol(),
    cipher: socket.getCipher().name,
    alpnProtocol: socket.alpnProtocol ?? false,
    servername: (socket as TLSSocket & { servername?: string | false }).servername ?? false,
    resumed: socket.isSessionReused(),
    clientCertificate,
  };
}
