import type { PeerCertificate, TLSSocket } from 'node:tls';

export interface CertificateSummary {
  subject: string;
  issuer: string;
  subjectaltname: string | null;
  serialNumber: string;
  validFrom: string;
  validTo: string;
  fingerprint256: string;
}

/** What INFO reports: the TLS session as the server sees it. */
export interface SessionInfo {
  protocol: string | null;
  cipher: string;
  alpn: string | false;
  servername: string | false;
  resumed: boolean;
  peer: { address: string | undefined; port: number | undefined };
  authorized: boolean;
  authorizationError: string | null;
  clientCertificate: CertificateSummary | null;
}

// Node prints a distinguished name as an object of RDNs; one line reads better in logs.
function dn(name: Record<string, string | string[]> | undefined): string {
  if (!name) return '';
  return Object.entries(name)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('+') : value}`)
    .join(', ');
}

/** The client certificate, or null when the client sent none (getPeerCertificate() is then {}). */
export function clientCertificate(socket: TLSSocket): CertificateSummary | null {
  const cert: PeerCertificate = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return null;
  return {
    subject: dn(cert.subject as unknown as Record<string, string>),
    issuer: dn(cert.issuer as unknown as Record<string, string>),
    subjectaltname: cert.subjectaltname ?? null,
    serialNumber: cert.serialNumber,
    validFrom: cert.valid_from,
    validTo: cert.valid_to,
    fingerprint256: cert.fingerprint256,
  };
}

export function sessionInfo(socket: TLSSocket, peerAddress: string | undefined): SessionInfo {
  const error = socket.authorizationError as Error | string | null | undefined;
  return {
    protocol: socket.getProtocol(),
    cipher: socket.getCipher().name,
    alpn: socket.alpnProtocol ?? false,
    servername: (socket as TLSSocket & { servername?: string | false }).servername || false,
    resumed: socket.isSessionReused(),
    peer: { address: peerAddress, port: socket.remotePort },
    authorized: socket.authorized,
    authorizationError: error ? String(error) : null,
    clientCertificate: clientCertificate(socket),
  };
}
