/**
 * The error codes https-secure adds to those of @netlab/http-handlers
 * (HTTP answers) and @netlab/tls (certificates). Stable: tests and log
 * queries branch on them.
 */
export const HTTPS_ERRORS = {
  /** Plain HTTP or h2c sent to the TLS port: a plaintext 400 says so. */
  NETLAB_ERR_HTTPS_EXPECTED: 'NETLAB_ERR_HTTPS_EXPECTED',
  /** An HTTP/2 session that reset more than H2_MAX_STREAM_RESETS streams in 10 s: GOAWAY ENHANCE_YOUR_CALM, closed. */
  NETLAB_ERR_H2_TOO_MANY_RESETS: 'NETLAB_ERR_H2_TOO_MANY_RESETS',
  /** An HTTP/2 session that stopped answering (the HTTP/2 library ended it with a GOAWAY of its own): closed. */
  NETLAB_ERR_H2_SESSION_DEAD: 'NETLAB_ERR_H2_SESSION_DEAD',
  /** An HTTP/2 stream over H2_MAX_OPEN_STREAMS, process-wide: refused with RST_STREAM REFUSED_STREAM (safe to retry). */
  NETLAB_ERR_H2_STREAMS_EXHAUSTED: 'NETLAB_ERR_H2_STREAMS_EXHAUSTED',
} as const;

export type HttpsErrorCode = keyof typeof HTTPS_ERRORS;
