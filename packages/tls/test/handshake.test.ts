import { describe, expect, it } from 'vitest';
import { handshakeFailure } from '../src/index.js';

describe('handshakeFailure', () => {
  it.each([
    ['ERR_TLS_HANDSHAKE_TIMEOUT', 'timeout'],
    ['ERR_SSL_NO_APPLICATION_PROTOCOL', 'no_alpn'],
    ['ERR_SSL_UNSUPPORTED_PROTOCOL', 'protocol_version'],
    ['ERR_SSL_NO_SHARED_CIPHER', 'protocol_version'],
    ['ERR_SSL_NO_PROTOCOLS_AVAILABLE', 'protocol_version'],
    ['ERR_SSL_VERSION_TOO_LOW', 'protocol_version'],
    ['ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE', 'no_certificate'],
    ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'bad_certificate'],
    ['ERR_SSL_CERTIFICATE_VERIFY_FAILED', 'bad_certificate'],
    ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'bad_certificate'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'not_tls'],
    ['ERR_SSL_HTTP_REQUEST', 'not_tls'],
    ['ERR_SSL_PACKET_LENGTH_TOO_LONG', 'not_tls'],
    ['ECONNRESET', 'reset'],
    ['EPIPE', 'reset'],
    ['ERR_SSL_EVP_LIB', 'other'],
    [undefined, 'other'],
  ])('%s is %s', (code, reason) => {
    expect(handshakeFailure(code)).toBe(reason);
  });
});
