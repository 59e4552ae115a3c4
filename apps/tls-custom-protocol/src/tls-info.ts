import type { TLSSocket } from 'node:tls';
import { describeTlsSession, type TlsSessionInfo } from '@netlab/tls';

/**
 * INFO's answer: the TLS session as the server sees it — the same fields
 * https-secure's /whoami shows — and the client's address.
 */
export interface SessionInfo extends TlsSessionInfo {
  peer: { address: string | undefined; port: number | undefined };
}

export function sessionInfo(socket: TLSSocket, peerAddress: string | undefined): SessionInfo {
  return {
    ...describeTlsSession(socket),
    peer: { address: peerAddress, port: socket.remotePort },
  };
}
