import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig, parseConfig } from '@netlab/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoPki, type DemoPki, generatedNames, prepareTls, tlsVars } from '../src/index.js';
import { fileIn, tempDir, weakPair } from './helpers.js';

const schema = tlsVars();
let pki: DemoPki;
let other: DemoPki;
let dir: string;
let files: Record<string, string>;

beforeAll(async () => {
  [pki, other] = await Promise.all([createDemoPki(), createDemoPki()]);
  dir = await tempDir('prepare');
  files = {
    cert: await fileIn(dir, 'tls.crt', pki.server.cert),
    chain: await fileIn(dir, 'chain.crt', pki.server.cert + pki.ca.cert),
    key: await fileIn(dir, 'tls.key', pki.server.key),
    otherKey: await fileIn(dir, 'other.key', other.server.key),
    ca: await fileIn(dir, 'ca.pem', pki.ca.cert),
    text: await fileIn(dir, 'text.pem', 'not pem\n'),
  };
  const weak = await weakPair();
  files.weak = await fileIn(dir, 'weak.crt', weak.cert);
  files.weakKey = await fileIn(dir, 'weak.key', weak.key);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const prepare = (env: Record<string, string>) =>
  prepareTls(loadConfig(schema, env), { hostname: 'host', commonName: 'test' });

describe('prepareTls', () => {
  it('loads a mounted pair, chain included, and the client CA', async () => {
    const result = await prepare({
      TLS_CERT_FILE: files.chain!,
      TLS_KEY_FILE: files.key!,
      TLS_CLIENT_CA_FILE: files.ca!,
      TLS_CLIENT_AUTH: 'optional',
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.tls.source).toEqual({ kind: 'files', certFile: files.chain, keyFile: files.key });
    expect(result.tls.credentials.info.subject).toBe('CN=localhost');
    expect(result.tls.clientAuth).toEqual({ ca: pki.ca.cert, required: false });
  });

  it('generates a certificate in memory when nothing is set', async () => {
    const result = await prepare({});
    expect(result.ok && result.tls.source.kind).toBe('generated');
  });

  it('no client CA: no client auth; a CA alone: required, tickets as configured', async () => {
    const plain = await prepare({ TLS_CERT_FILE: files.cert!, TLS_KEY_FILE: files.key! });
    expect(plain.ok && plain.tls.clientAuth).toBeUndefined();
    expect(plain.ok && plain.tls.sessionTickets).toBe(true);
    const mtls = await prepare({
      TLS_CERT_FILE: files.cert!,
      TLS_KEY_FILE: files.key!,
      TLS_CLIENT_CA_FILE: files.ca!,
      TLS_SESSION_TICKETS: 'false',
    });
    expect(mtls.ok && mtls.tls.clientAuth).toEqual({ ca: pki.ca.cert, required: true });
    expect(mtls.ok && mtls.tls.sessionTickets).toBe(false);
  });

  it('TLS_CERT_DIR: makes the pair there once, says why, then reuses it', async () => {
    const certDir = join(dir, 'kept');
    const first = await prepare({ TLS_CERT_DIR: certDir });
    expect(first.ok && first.tls.source).toStrictEqual({
      kind: 'cert-dir',
      certFile: join(certDir, 'cert.pem'),
      keyFile: join(certDir, 'key.pem'),
      created: 'none stored yet',
    });
    const again = await prepare({ TLS_CERT_DIR: certDir });
    // Reused: no `created` at all, so the entry file logs no "created" line.
    expect(again.ok && again.tls.source).toStrictEqual({
      kind: 'cert-dir',
      certFile: join(certDir, 'cert.pem'),
      keyFile: join(certDir, 'key.pem'),
    });
    expect(again.ok && again.tls.credentials.info.fingerprint256).toBe(
      first.ok && first.tls.credentials.info.fingerprint256,
    );
  });

  it('refuses a pair OpenSSL will not serve (a 512-bit RSA key), naming TLS_CERT_FILE', async () => {
    const result = await prepare({ TLS_CERT_FILE: files.weak!, TLS_KEY_FILE: files.weakKey! });
    expect(result).toStrictEqual({
      ok: false,
      issues: [
        {
          variable: 'TLS_CERT_FILE',
          message: 'refused by OpenSSL: error:0A00018F:SSL routines::ee key too small',
        },
      ],
    });
  });

  // Table: the environment, then the exit-78 lines it must give (variable: start of message).
  it.each([
    [{ TLS_CERT_FILE: 'c' }, ['TLS_KEY_FILE: required when TLS_CERT_FILE is set']],
    [{ TLS_KEY_FILE: 'k' }, ['TLS_CERT_FILE: required when TLS_KEY_FILE is set']],
    [
      { CERT: 'cert', KEY: 'otherKey' },
      ['TLS_KEY_FILE: the key does not belong to the certificate in TLS_CERT_FILE'],
    ],
    [{ CERT: 'text', KEY: 'key' }, ['TLS_CERT_FILE: no PEM certificate in it']],
    [{ CERT: 'cert', KEY: 'text' }, ['TLS_KEY_FILE: no usable PEM private key in it']],
    [
      { CERT: 'missing', KEY: 'missing' },
      ['TLS_CERT_FILE: cannot read', 'TLS_KEY_FILE: cannot read'],
    ],
    [
      { CERT: 'cert', KEY: 'key', TLS_CERT_DIR: '/tmp/x' },
      ['TLS_CERT_DIR: only for a generated certificate'],
    ],
    [{ CA: 'text' }, ['TLS_CLIENT_CA_FILE: no PEM certificate in it']],
    [
      { CA: 'missing', CERT: 'cert', KEY: 'otherKey' },
      ['TLS_KEY_FILE: the key', 'TLS_CLIENT_CA_FILE: cannot read'],
    ],
  ])('%o is refused with one line per variable', async (spec, expected) => {
    const path = (name: string) => files[name] ?? join(dir, 'nope', name);
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(spec)) {
      if (k === 'CERT') env.TLS_CERT_FILE = path(v);
      else if (k === 'KEY') env.TLS_KEY_FILE = path(v);
      else if (k === 'CA') env.TLS_CLIENT_CA_FILE = path(v);
      else env[k] = v;
    }
    const result = await prepare(env);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const lines = result.issues.map((i) => `${i.variable}: ${i.message}`);
    expect(lines).toHaveLength(expected.length);
    for (const [i, text] of expected.entries()) expect(lines[i]).toContain(text);
  });
});

describe('generatedNames', () => {
  it('adds the host name and TLS_SAN in lower case, after the loopback names', () => {
    expect(generatedNames('Build-Host', ['Extra.Example', '::1', '192.0.2.7'])).toEqual([
      'localhost',
      '127.0.0.1',
      '::1',
      'build-host',
      'extra.example',
      '192.0.2.7',
    ]);
  });
});

describe('tlsVars', () => {
  it.each([
    [
      'example.com, *.example.com,10.0.0.1 ,::1',
      ['example.com', '*.example.com', '10.0.0.1', '::1'],
    ],
    ['a', ['a']],
    [',a,,', ['a']],
    // At the limit: 100 names are accepted (101 are refused below).
    [
      Array.from({ length: 100 }, (_, i) => `n${i}.example`).join(','),
      Array.from({ length: 100 }, (_, i) => `n${i}.example`),
    ],
  ])('TLS_SAN=%s parses', (raw, names) => {
    const result = parseConfig(schema, { TLS_SAN: raw });
    expect(result.ok && result.config.TLS_SAN).toEqual(names);
  });

  it.each(['has space', 'under_score.example', 'a..b', '-lead.example', 'x'.repeat(64)])(
    'TLS_SAN=%s is refused',
    (raw) => {
      const result = parseConfig(schema, { TLS_SAN: raw });
      expect(result.ok).toBe(false);
    },
  );

  it.each([
    ['a,has space', 'expected DNS names or IP addresses, got "has space"'],
    [
      Array.from({ length: 101 }, (_, i) => `n${i}.example`).join(','),
      'expected at most 100 names, got 101',
    ],
  ])('TLS_SAN=%s is refused with the reason', (raw, said) => {
    const result = parseConfig(schema, { TLS_SAN: raw });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.issues.map((i) => [i.variable, i.message])).toEqual([['TLS_SAN', said]]);
  });
});
