import { isIP } from 'node:net';
import { bool, type ConfigOf, int, oneOf, type Schema, string, type VarSpec } from '@netlab/common';

// RFC 1123 labels; a leading `*.` wildcard is allowed, as in any server certificate.
const DNS_NAME =
  /^(\*\.)?(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** A comma list of DNS names and IP addresses, as subjectAltName entries. */
export function sanList(doc: string): VarSpec<readonly string[]> {
  return {
    kind: 'comma list of names and IPs',
    default: [],
    doc,
    defaultText: '',
    parse(raw) {
      const names = raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      if (names.length > 100) return { error: `expected at most 100 names, got ${names.length}` };
      const bad = names.find((n) => isIP(n) === 0 && !DNS_NAME.test(n));
      if (bad !== undefined) return { error: `expected DNS names or IP addresses, got "${bad}"` };
      return { value: names };
    },
  };
}

/**
 * The certificate variables of every TLS server in netlab (https-secure,
 * tls-custom-protocol): spread into an app's schema, so both read the same
 * names with the same meaning and their README tables say the same thing.
 */
export function tlsVars() {
  return {
    TLS_CERT_FILE: string({
      default: undefined,
      doc: 'PEM certificate, optionally followed by its intermediate chain. With TLS_KEY_FILE; unset: a self-signed certificate is generated. Reloaded when the file changes or on SIGHUP.',
    }),
    TLS_KEY_FILE: string({
      default: undefined,
      doc: 'PEM private key of TLS_CERT_FILE (never logged).',
    }),
    TLS_CERT_DIR: string({
      default: undefined,
      doc: 'Without TLS_CERT_FILE: keep the generated certificate here (cert.pem, key.pem mode 0600) and reuse it on restart, so clients can pin it. Unset: a new one each start.',
    }),
    TLS_SAN: sanList(
      'More subjectAltNames for the generated certificate, besides localhost, 127.0.0.1, ::1 and the host name.',
    ),
    TLS_KEY_TYPE: oneOf(
      ['ec', 'rsa'] as const,
      'ec',
      'Key of the generated certificate: ec (P-256, faster handshakes) or rsa (2048 bits).',
    ),
    TLS_CLIENT_CA_FILE: string({
      default: undefined,
      doc: 'PEM CA certificate(s) for client certificates (mTLS). Set: clients are asked for a certificate.',
    }),
    TLS_CLIENT_AUTH: oneOf(
      ['required', 'optional'] as const,
      'required',
      'With TLS_CLIENT_CA_FILE: required refuses clients without a valid certificate; optional lets them in and reports it.',
    ),
    TLS_SESSION_TICKETS: bool(
      true,
      'Issue session tickets, so returning clients resume without a full handshake. false: every connection makes a full handshake (to load-test a client or terminator on that path).',
    ),
    TLS_WATCH_INTERVAL_MS: int({
      default: 5000,
      min: 0,
      max: 3_600_000,
      doc: 'How often the certificate and key files are checked for a change to reload (0: only on SIGHUP).',
    }),
    TLS_HANDSHAKE_TIMEOUT_MS: int({
      default: 10_000,
      min: 100,
      max: 600_000,
      doc: 'A client must complete the TLS handshake within this time, or is disconnected.',
    }),
  } satisfies Schema;
}

export type TlsConfig = ConfigOf<ReturnType<typeof tlsVars>>;
