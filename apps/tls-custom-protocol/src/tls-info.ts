import type { TLSSocket } from 'node:tls';
import type { ConnectionOrigin } from '@netlab/proxy-protocol';

/**
 * INFO's answer, field for field the table of docs/tls-protocol.md
 * ("INFO_REPLY"): the TLS session as the server sees it. The names are the
 * spec's (and Node's `getPeerCertificate()`'s `subjectaltname`), not those
 * of https-secure's /whoami: a client written from the spec must work.
 * test/spec.test.ts reads the table out of the spec and checks this against it.
 */
export interface SessionInfo {
  protocol: string | null;
  cipher: string;
  alpn: string | false;
  servername: string | false;
  resumed: boolean;
  peer: { address: string | null; port: number | null };
  authorized: boolean;
  authorizationError: string | null;
  clientCertificate: PeerCertificate | null;
  /** The real client: from a PROXY header (PROXY_PROTOCOL), else the peer. */
  client: ConnectionOrigin['client'];
  /** The PROXY header with its TLVs, or null. */
  proxy: ConnectionOrigin['proxy'];
}

export interface PeerCertificate {
  subject: string;
  issuer: string;
  subjectaltname: string | null;
  serialNumber: string;
  validFrom: string;
  validTo: string;
  fingerprint256: string;
}

/** `CN=a\nO=b` (Node's form) → `CN=a, O=b`. */
const oneLine = (name: string) => name.split('\n').join(', ');

export function sessionInfo(
  socket: TLSSocket,
  peerAddress: string | undefined,
  origin: ConnectionOrigin,
): SessionInfo {
  const x509 = socket.getPeerX509Certificate();
  const clientCertificate: PeerCertificate | null = x509
    ? {
        subject: oneLine(x509.subject),
        issuer: oneLine(x509.issuer),
        subjectaltname: x509.subjectAltName ?? null,
        serialNumber: x509.serialNumber,
        validFrom: new Date(x509.validFrom).toISOString(),
        validTo: new Date(x509.validTo).toISOString(),
        fingerprint256: x509.fingerprint256,
      }
    : null;
  const authorized = clientCertificate !== null && socket.authorized;
  return {
    protocol: socket.getProtocol(),
    cipher: socket.getCipher().name,
    alpn: socket.alpnProtocol ?? false,
    servername: (socket as TLSSocket & { servername?: string | false }).servername || false,
    resumed: socket.isSessionReused(),
    peer: { address: peerAddress ?? null, port: socket.remotePort ?? null },
    authorized,
    // Why a certificate that was sent is not trusted (OpenSSL's code, e.g.
    // UNABLE_TO_VERIFY_LEAF_SIGNATURE); null when none was sent or it was.
    authorizationError:
      clientCertificate !== null && !authorized
        ? String(socket.authorizationError ?? 'unknown')
        : null,
    clientCertificate,
    client: origin.client,
    proxy: origin.proxy,
  };
}
