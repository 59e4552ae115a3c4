import { X509Certificate } from 'node:crypto';
import { lstat, mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDemoPki,
  generatedNames,
  generateSelfSigned,
  selfSignedInDir,
  type TlsError,
} from '../src/index.js';
import { pemFile } from '../src/self-signed.js';
import { opensslText, tempDir } from './helpers.js';

const DAY_MS = 24 * 3600 * 1000;
const names = generatedNames('build-host', ['netlab.test', '192.0.2.7']);

describe('generateSelfSigned', () => {
  it.each([
    ['ec', 'ecdsa-with-SHA256', 'ASN1 OID: prime256v1'],
    ['rsa', 'sha256WithRSAEncryption', 'Public-Key: (2048 bit)'],
  ] as const)(
    '%s: signed with SHA-256, the right key, a server certificate for every name',
    async (keyType, sigalg, keyText) => {
      const { cert, leaf } = await generateSelfSigned({ commonName: 'test', names, keyType });
      const text = await opensslText(cert);
      expect(text).toContain(`Signature Algorithm: ${sigalg}`);
      expect(text).toContain(keyText);
      expect(text).toMatch(/X509v3 Extended Key Usage:\s+TLS Web Server Authentication\n/);
      expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
      expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment\n/);
      for (const host of [
        'localhost',
        '127.0.0.1',
        '::1',
        'build-host',
        'netlab.test',
        '192.0.2.7',
      ]) {
        expect(leaf.checkHost(host) ?? leaf.checkIP(host), host).toBeTruthy();
      }
    },
  );

  it('is valid now, for at most 366 days', async () => {
    const { leaf } = await generateSelfSigned({ commonName: 'test', names, keyType: 'ec' });
    const from = Date.parse(leaf.validFrom);
    const to = Date.parse(leaf.validTo);
    expect(from).toBeLessThanOrEqual(Date.now());
    expect(to).toBeGreaterThan(Date.now() + 364 * DAY_MS);
    expect(to - from).toBeLessThanOrEqual(366 * DAY_MS);
  });
});

describe('pemFile', () => {
  it('adds the final newline a PEM lacks, and only then', () => {
    expect(pemFile('-----END CERTIFICATE-----')).toBe('-----END CERTIFICATE-----\n');
    expect(pemFile('-----END CERTIFICATE-----\n')).toBe('-----END CERTIFICATE-----\n');
  });
});

describe('generatedNames', () => {
  it('leaves out a host name that is not a DNS name, and repeats nothing', () => {
    expect(generatedNames('bad_host', ['LOCALHOST'])).toEqual(['localhost', '127.0.0.1', '::1']);
  });
});

describe('selfSignedInDir (TLS_CERT_DIR)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('dir');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  const opts = { commonName: 'test', names, keyType: 'ec' as const };

  it('creates the pair the first time, key mode 0600, and reuses it after', async () => {
    const sub = join(dir, 'reuse');
    const first = await selfSignedInDir(sub, opts);
    expect(first.created).toBe('none stored yet');
    expect((await stat(first.keyFile)).mode & 0o777).toBe(0o600);
    const second = await selfSignedInDir(sub, opts);
    expect(second.created).toBeUndefined();
    expect(second.credentials.info.fingerprint256).toBe(first.credentials.info.fingerprint256);
  });

  it('tightens a key file that others can read', async () => {
    const sub = join(dir, 'mode');
    const { keyFile } = await selfSignedInDir(sub, opts);
    const { chmod } = await import('node:fs/promises');
    await chmod(keyFile, 0o644);
    await selfSignedInDir(sub, opts);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
  });

  it('tightens a group-readable (0640) key too, not only a world-readable one', async () => {
    const sub = join(dir, 'group');
    const { keyFile } = await selfSignedInDir(sub, opts);
    const { chmod } = await import('node:fs/promises');
    await chmod(keyFile, 0o640);
    await selfSignedInDir(sub, opts);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
  });

  it('makes a new one when a name is missing from the stored one', async () => {
    const sub = join(dir, 'names');
    const first = await selfSignedInDir(sub, opts);
    const more = await selfSignedInDir(sub, { ...opts, names: [...names, 'new.example'] });
    expect(more.created).toBe('the stored one lacks new.example');
    expect(more.credentials.info.fingerprint256).not.toBe(first.credentials.info.fingerprint256);
  });

  it('makes a new one when the stored one expires within a day', async () => {
    const sub = join(dir, 'expiry');
    await selfSignedInDir(sub, { ...opts, now: new Date(Date.now() - 365 * DAY_MS + 3600_000) });
    const renewed = await selfSignedInDir(sub, opts);
    expect(renewed.created).toMatch(/^the stored one expires /);
    expect(Date.parse(renewed.credentials.leaf.validTo)).toBeGreaterThan(Date.now() + 300 * DAY_MS);
  });

  it('replaces a corrupted pair instead of failing', async () => {
    const sub = join(dir, 'corrupt');
    const { certFile } = await selfSignedInDir(sub, opts);
    await writeFile(certFile, 'garbage');
    const fresh = await selfSignedInDir(sub, opts);
    expect(fresh.created).toMatch(/^the stored one is unusable/);
    expect(new X509Certificate(await readFile(certFile)).fingerprint256).toBe(
      fresh.credentials.info.fingerprint256,
    );
  });

  it('refuses a directory it cannot write, naming TLS_CERT_DIR, the path and the errno code', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, '');
    const err = await selfSignedInDir(join(file, 'sub'), opts).then(
      () => undefined,
      (e: TlsError) => e,
    );
    expect([err?.code, err?.variable, err?.message]).toEqual([
      'NETLAB_ERR_TLS_CERT_DIR',
      'TLS_CERT_DIR',
      `cannot write to ${join(file, 'sub')} (ENOTDIR)`,
    ]);
    expect((err?.cause as NodeJS.ErrnoException | undefined)?.code).toBe('ENOTDIR');
  });

  it('a stored file it cannot read (not a missing one) is unusable, and replaced', async () => {
    const sub = join(dir, 'loop');
    await mkdir(sub);
    // A symlink to itself: readFile fails with ELOOP; rename replaces the link.
    await symlink('cert.pem', join(sub, 'cert.pem'));
    // A readable key beside it: the two files are read at once, and a
    // missing key's ENOENT could come first ("none stored yet").
    await writeFile(join(sub, 'key.pem'), (await generateSelfSigned(opts)).key);
    const made = await selfSignedInDir(sub, opts);
    expect(made.created).toBe(
      `the stored one is unusable: cannot read ${join(sub, 'cert.pem')} (ELOOP)`,
    );
    expect((await lstat(made.certFile)).isFile()).toBe(true);
  });

  it('a stored key of another certificate is unusable, and the message names the file', async () => {
    const sub = join(dir, 'mismatch');
    const { keyFile, certFile } = await selfSignedInDir(sub, opts);
    const other = await generateSelfSigned(opts);
    await writeFile(keyFile, other.key);
    const made = await selfSignedInDir(sub, opts);
    expect(made.created).toBe(
      `the stored one is unusable: the key does not belong to the certificate in ${certFile}`,
    );
  });

  it('a stored certificate without subjectAltName lacks every name', async () => {
    const sub = join(dir, 'no-san');
    await mkdir(sub);
    const pki = await createDemoPki();
    // The demo client certificate: a valid pair with no SAN extension.
    await writeFile(join(sub, 'cert.pem'), pki.client.cert);
    await writeFile(join(sub, 'key.pem'), pki.client.key);
    const made = await selfSignedInDir(sub, opts);
    expect(made.created).toBe(
      'the stored one lacks localhost, 127.0.0.1, ::1, build-host, netlab.test, 192.0.2.7',
    );
  });

  it('compares names whole: another IP or a name with the same ending is missing', async () => {
    // Each against a fresh store of `names` (netlab.test, 192.0.2.7, ::1…): a miss replaces it.
    const against = async (name: string, wanted: string[]) => {
      const sub = join(dir, `whole-${name}`);
      await selfSignedInDir(sub, opts);
      return (await selfSignedInDir(sub, { ...opts, names: wanted })).created;
    };
    expect(await against('ip', ['192.0.2.8'])).toBe('the stored one lacks 192.0.2.8');
    expect(await against('dns', ['netlab.best'])).toBe('the stored one lacks netlab.best');
    // ::1 is stored as 0:0:0:0:0:0:0:1, and a name's case does not matter.
    expect(await against('same', ['::1', 'NetLab.Test', '192.0.2.7'])).toBeUndefined();
  });
});
