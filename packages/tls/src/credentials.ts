import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { TlsError } from './errors.js';

/** What is worth knowing about a certificate, for logs and /whoami. Never the key. */
export interface CertificateInfo {
  subject: string;
  issuer: string;
  /** `DNS:localhost`, `IP Address:127.0.0.1`, … as OpenSSL prints them. */
  subjectAltNames: string[];
  serialNumber: string;
  validFrom: string;
  validTo: string;
  /** SHA-256 of the DER certificate, colon-separated hex: what `openssl x509 -fingerprint -sha256` shows. */
  fingerprint256: string;
}

/** A certificate (with its chain) and its private key, checked to belong together. */
export interface Credentials {
  /** PEM: the leaf first, then any intermediates. */
  readonly cert: string;
  /** PEM private key. */
  readonly key: string;
  readonly leaf: X509Certificate;
  readonly info: CertificateInfo;
}

/** The variables a pair came from, so an error names the right one. */
export interface PairNames {
  cert: string;
  key: string;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every PEM certificate in `text`, parsed; a TlsError when there is none or one is broken. */
export function parseCertificates(text: string, variable: string): X509Certificate[] {
  const blocks = text.match(PEM_CERT) ?? [];
  if (blocks.length === 0) {
    throw new TlsError('NETLAB_ERR_TLS_BAD_PEM', variable, 'no PEM certificate in it');
  }
  return blocks.map((pem, i) => {
    try {
      return new X509Certificate(pem);
    } catch (cause) {
      throw new TlsError(
        'NETLAB_ERR_TLS_BAD_PEM',
        variable,
        `certificate ${i + 1} is not a valid X.509 certificate`,
        { cause },
      );
    }
  });
}

function parseKey(text: string, variable: string): KeyObject {
  try {
    return createPrivateKey(text);
  } catch (cause) {
    // Encrypted keys land here too: a server restarted by a supervisor has
    // nobody to type a passphrase.
    throw new TlsError(
      'NETLAB_ERR_TLS_BAD_PEM',
      variable,
      'no usable PEM private key in it (an encrypted key is not supported)',
      { cause },
    );
  }
}

/**
 * Checks that `keyPem` is the private key of the first certificate in
 * `certPem`: OpenSSL would find out at the first handshake, or throw an
 * opaque "key values mismatch"; this says which variable is wrong.
 */
export function parseCredentials(certPem: string, keyPem: string, names: PairNames): Credentials {
  const [leaf] = parseCertificates(certPem, names.cert);
  const key = parseKey(keyPem, names.key);
  if (!leaf!.checkPrivateKey(key)) {
    throw new TlsError(
      'NETLAB_ERR_TLS_KEY_MISMATCH',
      names.key,
      `the key does not belong to the certificate in ${names.cert}`,
    );
  }
  return { cert: certPem, key: keyPem, leaf: leaf!, info: describeCertificate(leaf!) };
}

/** Reads a PEM file; a TlsError naming `variable` when it cannot. */
export async function readPem(path: string, variable: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'error';
    throw new TlsError('NETLAB_ERR_TLS_READ', variable, `cannot read ${path} (${code})`, {
      cause,
    });
  }
}

/** Reads and checks a certificate file and its key file. */
export async function readCredentials(
  certFile: string,
  keyFile: string,
  names: PairNames,
): Promise<Credentials> {
  const [cert, key] = await Promise.all([
    readPem(certFile, names.cert),
    readPem(keyFile, names.key),
  ]);
  return parseCredentials(cert, key, names);
}

export function describeCertificate(x509: X509Certificate): CertificateInfo {
  return {
    subject: oneLine(x509.subject),
    issuer: oneLine(x509.issuer),
    subjectAltNames: x509.subjectAltName?.split(', ') ?? [],
    serialNumber: x509.serialNumber,
    validFrom: new Date(x509.validFrom).toISOString(),
    validTo: new Date(x509.validTo).toISOString(),
    fingerprint256: x509.fingerprint256,
  };
}

/** `CN=a\nO=b` (Node's form) → `CN=a, O=b`. */
const oneLine = (name: string) => name.split('\n').join(', ');
