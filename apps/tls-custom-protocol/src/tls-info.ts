import type { TLSSocket } from 'node:tls';
import type { ConnectionOrigin } from '@netlab/proxy-protocol';
import { describeTlsSession, type TlsSessionInfo } from '@netlab/tls';

/**
 * INFO's answer: the TLS session as the server sees it — the same fields
 * https-secure's /whoami shows — and the client's address.
 */
export interface SessionInfo extends TlsSessionInfo {
  peer: { address: string | undefined; port: number | undefined };
  /** The real client: from a PROXY header (PROXY_PROTOCOL), else the peer. */
  client: ConnectionOrigin['client'];
  /** The PROXY header with its TLVs, or null. */
  proxy: ConnectionOrigin['proxy'];
}

export function sessionInfo(
  socket: TLSSocket,
  peerAddress: string | undefined,
  origin: ConnectionOrigin,
): SessionInfo {
  return {
    ...describeTlsSession(socket),
    peer: { address: peerAddress, port: socket.remotePort },
    client: origin.client,
    proxy: origin.proxy,
  };
}
