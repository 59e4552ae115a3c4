export {
  type ProxyProtocolConfig,
  parseTrusted,
  proxyProtocolVars,
  type TrustedPeers,
} from './config.js';
export { crc32c } from './crc32c.js';
export { ProxyProtocolError, type ProxyProtocolErrorCode } from './errors.js';
export {
  acceptProxyProtocol,
  accessOrigin,
  type ConnectionOrigin,
  connectionOrigin,
  type GateDeps,
} from './gate.js';
export type { ProxyEndpoint, ProxyHeader, ProxyTlv } from './header.js';
export { detect, type ParseStep, ProxyHeaderParser, parseProxyHeader } from './parser.js';
export { PP2_TYPE, type SslTlv } from './tlv.js';
export { V1_MAX_LENGTH } from './v1.js';
export { V2_SIGNATURE } from './v2.js';
