import { constants } from 'node:crypto';
import type { SecureContextOptions } from 'node:tls';
import type { Credentials } from './credentials.js';

/**
 * Mozilla's "intermediate" configuration (ssl-config.mozilla.org, guidelines
 * 5.7): TLS 1.2 and 1.3, AEAD ciphers with forward secrecy only, so a client
 * that offers nothing but CBC suites (or RC4, 3DES, static RSA) fails the
 * handshake. Mozilla's list also has three DHE-RSA suites; they are left out
 * because OpenSSL only uses them with a `dhparam` file, which Node does not
 * set, and every client Mozilla targets speaks ECDHE.
 *
 * The TLS 1.3 suites are named too, so the whole set is written here (they
 * are OpenSSL's defaults; Node splits the string into TLS 1.2 ciphers and
 * TLS 1.3 suites).
 */
export const CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

export const MIN_VERSION = 'TLSv1.2';
export const MAX_VERSION = 'TLSv1.3';

/** How clients are asked for certificates (mTLS), from TLS_CLIENT_CA_FILE / TLS_CLIENT_AUTH. */
export interface ClientAuth {
  /** PEM CA certificate(s) a client certificate must chain to. */
  ca: string;
  /** true: no valid client certificate, no connection. false: let in and report. */
  required: boolean;
}

/**
 * The complete secure-context options for a server: given to
 * `createSecureServer` at start and to `setSecureContext` on every reload,
 * which replaces them all (an option left out there reverts to Node's
 * default, e.g. `honorCipherOrder: true`).
 */
export function secureContextOptions(
  credentials: Credentials,
  clientAuth: ClientAuth | undefined,
  sessionTickets = true,
): SecureContextOptions {
  return {
    // Without tickets no session can be resumed: Node keeps no server-side
    // session cache unless the app handles 'newSession'/'resumeSession'.
    ...(sessionTickets ? {} : { secureOptions: constants.SSL_OP_NO_TICKET }),
    cert: credentials.cert,
    key: credentials.key,
    ...(clientAuth ? { ca: clientAuth.ca } : {}),
    minVersion: MIN_VERSION,
    maxVersion: MAX_VERSION,
    ciphers: CIPHERS,
    // Mozilla intermediate: the client picks among these, all of them strong.
    honorCipherOrder: false,
  };
}

/**
 * The per-connection options a TLS server takes besides its context, when
 * Node is to refuse clients without a valid certificate itself
 * (tls-custom-protocol). A server that decides in its own
 * 'secureConnection' listener (clientVerdict) takes
 * `{ ...clientAuthOptions(auth), rejectUnauthorized: false }`.
 */
export function clientAuthOptions(clientAuth: ClientAuth | undefined): {
  requestCert: boolean;
  rejectUnauthorized: boolean;
} {
  return {
    requestCert: clientAuth !== undefined,
    rejectUnauthorized: clientAuth?.required ?? false,
  };
}
