import { NetlabError } from '@netlab/common';

export type TlsErrorCode =
  /** A certificate or key file could not be read. */
  | 'NETLAB_ERR_TLS_READ'
  /** A file holds no PEM certificate or no usable PEM private key. */
  | 'NETLAB_ERR_TLS_BAD_PEM'
  /** The private key is not the one of the certificate. */
  | 'NETLAB_ERR_TLS_KEY_MISMATCH'
  /** OpenSSL refused the pair or the options (createSecureContext threw). */
  | 'NETLAB_ERR_TLS_CONTEXT'
  /** TLS_CERT_DIR could not be created, read or written. */
  | 'NETLAB_ERR_TLS_CERT_DIR';

/** Something wrong with a certificate, a key or where they are kept. */
export class TlsError extends NetlabError {
  /** The config variable the problem belongs to, for the exit-78 line. */
  readonly variable: string;

  constructor(
    code: TlsErrorCode,
    variable: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'TlsError';
    this.variable = variable;
  }
}
