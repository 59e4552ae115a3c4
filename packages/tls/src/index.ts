export { sanList, type TlsConfig, tlsVars } from './config.js';
export {
  type CertificateInfo,
  type Credentials,
  describeCertificate,
  parseCertificates,
  parseCredentials,
  readCredentials,
} from './credentials.js';
export {
  createDemoPki,
  DEMO_PKI_FILES,
  type DemoPki,
  type DemoPkiOptions,
  type KeyPair,
  writeDemoPki,
} from './demo-pki.js';
export { TlsError, type TlsErrorCode } from './errors.js';
export {
  type ClientVerdict,
  clientVerdict,
  type HandshakeFailure,
  handshakeFailure,
} from './handshake.js';
export {
  type CertificateSource,
  generatedNames,
  PAIR_NAMES,
  type PreparedTls,
  type PrepareOptions,
  prepareTls,
} from './prepare.js';
export {
  type CertificateReloader,
  certificateLogFields,
  type ReloaderOptions,
  watchCertificates,
} from './reloader.js';
export {
  CERT_FILE_NAME,
  generateSelfSigned,
  KEY_FILE_NAME,
  type SelfSignedOptions,
  selfSignedInDir,
} from './self-signed.js';
export { type ClientCertificateInfo, describeTlsSession, type TlsSessionInfo } from './session.js';
export {
  CIPHERS,
  type ClientAuth,
  clientAuthOptions,
  MAX_VERSION,
  MIN_VERSION,
  secureContextOptions,
} from './settings.js';
