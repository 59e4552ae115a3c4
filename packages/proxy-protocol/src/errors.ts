import { NetlabError } from '@netlab/common';

export type ProxyProtocolErrorCode =
  /** The bytes are not a valid PROXY header (bad signature, version, command, family, address, port or TLV). */
  | 'NETLAB_ERR_PROXY_MALFORMED'
  /** A v1 line longer than the specification's 107 bytes without its CRLF. */
  | 'NETLAB_ERR_PROXY_TOO_LONG'
  /** The v2 CRC32C TLV does not match the header. */
  | 'NETLAB_ERR_PROXY_CRC'
  /** The connection closed before the header was complete. */
  | 'NETLAB_ERR_PROXY_TRUNCATED'
  /** The header did not arrive within PROXY_PROTOCOL_TIMEOUT_MS. */
  | 'NETLAB_ERR_PROXY_TIMEOUT'
  /** PROXY_PROTOCOL=required and the connection did not start with a header. */
  | 'NETLAB_ERR_PROXY_MISSING'
  /** A header (or, with PROXY_PROTOCOL=required, any connection) from a peer outside PROXY_PROTOCOL_TRUSTED. */
  | 'NETLAB_ERR_PROXY_UNTRUSTED';

/** Why a PROXY header was refused; `reason` is the short label logged and counted. */
export class ProxyProtocolError extends NetlabError {
  constructor(code: ProxyProtocolErrorCode, message: string) {
    super(code, message);
    this.name = 'ProxyProtocolError';
  }

  /** `NETLAB_ERR_PROXY_TOO_LONG` → `too_long`: the metric label. */
  get reason(): string {
    return this.code.slice('NETLAB_ERR_PROXY_'.length).toLowerCase();
  }
}

export function malformed(message: string): ProxyProtocolError {
  return new ProxyProtocolError('NETLAB_ERR_PROXY_MALFORMED', message);
}
