import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { readFile, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  clientAuthOptions,
  createDemoPki,
  DEMO_PKI_FILES,
  type DemoPki,
  parseCredentials,
  secureContextOptions,
  writeDemoPki,
} from '../src/index.js';
import { opensslText, run, tempDir } from './helpers.js';

// Shared by the tests that only read it. A test about how the PKI is made
// makes its own: Stryker runs a mutant only against the tests that reached
// it, and a beforeAll that fails under a mutant is not counted as a kill.
let pki: DemoPki;
beforeAll(async () => {
  pki = await createDemoPki({ serverNames: ['localhost', '127.0.0.1'], clientName: 'alice' });
});

/** What a verifier reads of a certificate: signature, curve, and every extension, as OpenSSL prints them. */
async function profile(pem: string) {
  const text = await opensslText(pem);
  const from = text.indexOf('X509v3 extensions:') + 'X509v3 extensions:'.length;
  return {
    signature: /Signature Algorithm: (\S+)/.exec(text)?.[1],
    curve: /ASN1 OID: (\S+)/.exec(text)?.[1],
    extensions: text
      .slice(from, text.lastIndexOf('Signature Algorithm:'))
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== ''),
  };
}

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

describe('createDemoPki', () => {
  it('makes a CA that signed both certificates, each for its own purpose', () => {
    const ca = new X509Certificate(pki.ca.cert);
    const server = new X509Certificate(pki.server.cert);
    const client = new X509Certificate(pki.client.cert);
    expect(ca.ca).toBe(true);
    for (const leaf of [server, client]) {
      expect(leaf.ca).toBe(false);
      expect(leaf.checkIssued(ca)).toBe(true);
      expect(leaf.verify(ca.publicKey)).toBe(true);
    }
    expect(server.keyUsage).toEqual([SERVER_AUTH]);
    expect(client.keyUsage).toEqual([CLIENT_AUTH]);
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(client.subject).toBe('CN=alice');
  });

  it('gives each certificate P-256, SHA-256 and exactly the extensions its role needs', async () => {
    const own = await createDemoPki();
    const ec = { signature: 'ecdsa-with-SHA256', curve: 'prime256v1' };
    expect(await profile(own.ca.cert)).toEqual({
      ...ec,
      extensions: [
        'X509v3 Basic Constraints: critical',
        'CA:TRUE, pathlen:0',
        'X509v3 Key Usage: critical',
        'Certificate Sign, CRL Sign',
      ],
    });
    expect(await profile(own.server.cert)).toEqual({
      ...ec,
      extensions: [
        'X509v3 Basic Constraints: critical',
        'CA:FALSE',
        'X509v3 Key Usage: critical',
        'Digital Signature',
        'X509v3 Extended Key Usage:',
        'TLS Web Server Authentication',
        'X509v3 Subject Alternative Name:',
        'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
      ],
    });
    expect(await profile(own.client.cert)).toEqual({
      ...ec,
      extensions: [
        'X509v3 Basic Constraints: critical',
        'CA:FALSE',
        'X509v3 Key Usage: critical',
        'Digital Signature',
        'X509v3 Extended Key Usage:',
        'TLS Web Client Authentication',
      ],
    });
  });

  it('passes openssl verify for each purpose, and only for its own', async () => {
    const paths = await writeDemoPki(await tempDir('pki'), await createDemoPki());
    const verify = (purpose: string, cert: string) =>
      run('openssl', ['verify', '-CAfile', paths.caCert, '-purpose', purpose, cert]).then(
        () => 'ok',
        () => 'refused',
      );
    expect(await verify('sslserver', paths.serverCert)).toBe('ok');
    expect(await verify('sslclient', paths.clientCert)).toBe('ok');
    expect(await verify('sslserver', paths.clientCert)).toBe('refused');
    expect(await verify('sslclient', paths.serverCert)).toBe('refused');
  });

  it('works for a real mutual-TLS handshake with our settings', async () => {
    const clientAuth = { ca: pki.ca.cert, required: true };
    const server = tls.createServer({
      ...secureContextOptions(
        parseCredentials(pki.server.cert, pki.server.key, { cert: 'c', key: 'k' }),
        clientAuth,
      ),
      ...clientAuthOptions(clientAuth),
    });
    server.on('secureConnection', (socket) =>
      socket.end(socket.getPeerX509Certificate()?.subject ?? 'none'),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const socket = tls.connect({
        port: (server.address() as AddressInfo).port,
        host: '127.0.0.1',
        ca: pki.ca.cert,
        cert: pki.client.cert,
        key: pki.client.key,
      });
      let text = '';
      socket.setEncoding('utf8').on('data', (d: string) => {
        text += d;
      });
      await once(socket, 'end');
      expect(socket.authorized).toBe(true);
      expect(text).toBe('CN=alice');
    } finally {
      server.close();
    }
  });
});

const DAY_MS = 24 * 3600 * 1000;
const MINUTE_MS = 60 * 1000;

/** createDemoPki(opts), its certificates parsed, and the clock read around the call. */
async function timed(opts?: Parameters<typeof createDemoPki>[0]) {
  const before = Date.now();
  const made = await createDemoPki(opts);
  const after = Date.now();
  return {
    before,
    after,
    ca: new X509Certificate(made.ca.cert),
    server: new X509Certificate(made.server.cert),
    client: new X509Certificate(made.client.cert),
  };
}

/** A certificate time (whole seconds) is `offset` after a moment between `before` and `after`. */
function expectAt(time: string, t: { before: number; after: number }, offset: number) {
  const ms = Date.parse(time);
  expect(ms).toBeGreaterThanOrEqual(Math.floor((t.before + offset) / 1000) * 1000);
  expect(ms).toBeLessThanOrEqual(t.after + offset);
}

describe('createDemoPki: names and validity', () => {
  it('by default: its own names, a year from five minutes ago, the CA twice as long', async () => {
    const t = await timed();
    expect(t.ca.subject).toBe('CN=netlab demo CA');
    expect(t.server.subject).toBe('CN=localhost');
    expect(t.server.subjectAltName).toBe(
      'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
    expect(t.client.subject).toBe('CN=netlab client');
    expect(t.client.issuer).toBe('CN=netlab demo CA');
    expectAt(t.server.validFrom, t, -5 * MINUTE_MS);
    expectAt(t.server.validTo, t, 365 * DAY_MS);
    for (const cert of [t.ca, t.client]) expect(cert.validFrom).toBe(t.server.validFrom);
    expect(t.client.validTo).toBe(t.server.validTo);
    expect(Date.parse(t.ca.validTo) - Date.parse(t.ca.validFrom)).toBe(2 * 365 * DAY_MS);
  });

  it('days sets the server and client validity, and the CA gets twice that', async () => {
    const t = await timed({ days: 10, caName: 'short CA', serverNames: ['demo.test', '::1'] });
    expect(t.ca.subject).toBe('CN=short CA');
    expect(t.server.subject).toBe('CN=demo.test');
    expect(t.server.subjectAltName).toBe('DNS:demo.test, IP Address:0:0:0:0:0:0:0:1');
    expectAt(t.server.validTo, t, 10 * DAY_MS);
    expect(t.client.validTo).toBe(t.server.validTo);
    expect(Date.parse(t.ca.validTo) - Date.parse(t.ca.validFrom)).toBe(20 * DAY_MS);
  });

  it('clientDays < 0: a client certificate that ended that long ago, valid for one day before', async () => {
    const t = await timed({ clientDays: -2 });
    expectAt(t.client.validTo, t, -2 * DAY_MS);
    expect(Date.parse(t.client.validTo) - Date.parse(t.client.validFrom)).toBe(DAY_MS);
    // The CA and the server are not expired.
    expectAt(t.server.validTo, t, 365 * DAY_MS);
    expect(t.ca.validFrom).toBe(t.server.validFrom);
    expect(Date.parse(t.ca.validTo) - Date.parse(t.ca.validFrom)).toBe(2 * 365 * DAY_MS);
  });

  it('clientDays > 0: a client certificate from the same start, ending that many days from now', async () => {
    const t = await timed({ clientDays: 3 });
    expect(t.client.validFrom).toBe(t.server.validFrom);
    expectAt(t.client.validTo, t, 3 * DAY_MS);
    expectAt(t.server.validTo, t, 365 * DAY_MS);
  });

  it('clientDays 0: valid from the same start until now, not a day back', async () => {
    const t = await timed({ clientDays: 0 });
    expect(t.client.validFrom).toBe(t.server.validFrom);
    expectAt(t.client.validTo, t, 0);
  });
});

describe('writeDemoPki', () => {
  it('writes the six files by their names, certificates 0644 and keys 0600, over old modes too', async () => {
    const dir = await tempDir('pki-write');
    // An old key others can read: writeFile alone would keep its mode.
    await writeFile(join(dir, 'client-key.pem'), 'old', { mode: 0o644 });
    const written = await writeDemoPki(join(dir, 'sub', 'deeper'), pki);
    const again = await writeDemoPki(dir, pki);
    expect(written.caCert).toBe(join(dir, 'sub', 'deeper', 'ca.pem'));
    expect(again).toEqual({
      caCert: join(dir, 'ca.pem'),
      caKey: join(dir, 'ca-key.pem'),
      serverCert: join(dir, 'server.pem'),
      serverKey: join(dir, 'server-key.pem'),
      clientCert: join(dir, 'client.pem'),
      clientKey: join(dir, 'client-key.pem'),
    });
    expect(Object.keys(DEMO_PKI_FILES)).toEqual(Object.keys(again));
    const expected: Array<[keyof typeof again, string, number]> = [
      ['caCert', pki.ca.cert, 0o644],
      ['caKey', pki.ca.key, 0o600],
      ['serverCert', pki.server.cert, 0o644],
      ['serverKey', pki.server.key, 0o600],
      ['clientCert', pki.client.cert, 0o644],
      ['clientKey', pki.client.key, 0o600],
    ];
    for (const [name, text, mode] of expected) {
      expect(await readFile(again[name], 'utf8'), name).toBe(text);
      expect((await stat(again[name])).mode & 0o777, name).toBe(mode);
    }
  });
});
