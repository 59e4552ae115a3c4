import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createDemoPki,
  type DemoPki,
  describeCertificate,
  parseCertificates,
  parseCredentials,
  readCredentials,
  TlsError,
} from '../src/index.js';
import { fileIn, tempDir } from './helpers.js';

let pki: DemoPki;
let other: DemoPki;
beforeAll(async () => {
  [pki, other] = await Promise.all([createDemoPki(), createDemoPki()]);
});

/** What a call threw, for exact assertions on it. */
function thrown(fn: () => unknown): TlsError {
  try {
    fn();
  } catch (err) {
    return err as TlsError;
  }
  throw new Error('it did not throw');
}

// The exit-78 line an operator reads is `${variable}: ${message}`: both are asserted whole.
describe('parseCertificates', () => {
  it('parses every certificate of a chain, in order', () => {
    const chain = parseCertificates(pki.server.cert + pki.ca.cert, 'TLS_CERT_FILE');
    expect(chain.map((c) => c.subject)).toEqual(['CN=localhost', 'CN=netlab demo CA']);
  });

  it('names the broken certificate of a chain by its place, with the cause', () => {
    const broken = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    const err = thrown(() => parseCertificates(pki.server.cert + broken, 'TLS_CERT_FILE'));
    expect(err).toBeInstanceOf(TlsError);
    expect(err.name).toBe('TlsError');
    expect([err.code, err.variable, err.message]).toEqual([
      'NETLAB_ERR_TLS_BAD_PEM',
      'TLS_CERT_FILE',
      'certificate 2 is not a valid X.509 certificate',
    ]);
    expect(err.cause).toBeInstanceOf(Error);
  });
});

describe('parseCredentials', () => {
  const names = { cert: 'TLS_CERT_FILE', key: 'TLS_KEY_FILE' };

  it('refuses a key that is not PEM (or is encrypted), naming the key variable, with the cause', () => {
    const err = thrown(() => parseCredentials(pki.server.cert, 'not a key', names));
    expect([err.code, err.variable, err.message]).toEqual([
      'NETLAB_ERR_TLS_BAD_PEM',
      'TLS_KEY_FILE',
      'no usable PEM private key in it (an encrypted key is not supported)',
    ]);
    expect(err.cause).toBeInstanceOf(Error);
  });

  it('refuses a key of another certificate, naming both variables', () => {
    const err = thrown(() => parseCredentials(pki.server.cert, other.server.key, names));
    expect([err.code, err.variable, err.message]).toEqual([
      'NETLAB_ERR_TLS_KEY_MISMATCH',
      'TLS_KEY_FILE',
      'the key does not belong to the certificate in TLS_CERT_FILE',
    ]);
  });
});

describe('readCredentials', () => {
  it('says which file it cannot read, and why (the errno code)', async () => {
    const dir = await tempDir('read');
    const cert = await fileIn(dir, 'tls.crt', pki.server.cert);
    const missing = join(dir, 'absent.key');
    const err = await readCredentials(cert, missing, { cert: 'C', key: 'K' }).then(
      () => undefined,
      (e: TlsError) => e,
    );
    expect([err?.code, err?.variable, err?.message]).toEqual([
      'NETLAB_ERR_TLS_READ',
      'K',
      `cannot read ${missing} (ENOENT)`,
    ]);
  });
});

describe('describeCertificate', () => {
  it('prints the names on one line each, the SANs as a list, the dates in ISO form', () => {
    const leaf = new X509Certificate(pki.server.cert);
    expect(describeCertificate(leaf)).toStrictEqual({
      subject: 'CN=localhost',
      issuer: 'CN=netlab demo CA',
      subjectAltNames: ['DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1'],
      serialNumber: leaf.serialNumber,
      validFrom: new Date(leaf.validFrom).toISOString(),
      validTo: new Date(leaf.validTo).toISOString(),
      fingerprint256: leaf.fingerprint256,
    });
  });

  it('joins a name of several parts with ", ", and gives [] without SANs', async () => {
    const pems = await generate(
      [
        { name: 'commonName', value: 'multi' },
        { name: 'organizationName', value: 'netlab' },
      ],
      { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' },
    );
    const info = describeCertificate(new X509Certificate(pems.cert));
    expect(info.subject).toBe('CN=multi, O=netlab');
    expect(info.issuer).toBe('CN=multi, O=netlab');
    // The demo client certificate has no subjectAltName extension.
    expect(describeCertificate(new X509Certificate(pki.client.cert)).subjectAltNames).toEqual([]);
  });
});
