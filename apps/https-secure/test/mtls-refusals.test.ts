import { rm } from 'node:fs/promises';
import { createDemoPki, type DemoPki, writeDemoPki } from '@netlab/tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  fileIn,
  metricValue,
  run,
  type Started,
  startHttps,
  tempDir,
  tlsConnect,
} from './helpers.js';

let pki: DemoPki;
let expired: DemoPki;
// Another CA with the same name as ours: OpenSSL finds it by name and fails its signature.
let twin: DemoPki;
let dir: string;
let paths: Awaited<ReturnType<typeof writeDemoPki>>;
let app: Started | undefined;

beforeAll(async () => {
  [pki, twin] = await Promise.all([createDemoPki(), createDemoPki()]);
  dir = await tempDir('mtls-refusals');
  paths = await writeDemoPki(dir, pki);
  // An expired client certificate from our own CA.
  expired = await createDemoPki({ clientDays: -1 });
  paths.caCert = await fileIn(dir, 'bundle.pem', pki.ca.cert + expired.ca.cert);
});
afterEach(async () => {
  await app?.close();
  app = undefined;
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const env = (auth: string) => ({
  TLS_CERT_FILE: paths.serverCert,
  TLS_KEY_FILE: paths.serverKey,
  TLS_CLIENT_CA_FILE: paths.caCert,
  TLS_CLIENT_AUTH: auth,
});

async function curlWith(client: { cert: string; key: string }, name: string, args: string[]) {
  const cert = await fileIn(dir, `${name}.pem`, client.cert);
  const key = await fileIn(dir, `${name}-key.pem`, client.key);
  return run('curl', [
    '-sS',
    '--cacert',
    paths.caCert,
    '--cert',
    cert,
    '--key',
    key,
    ...args,
  ]).catch((err: { code: number; stdout: string }) => err);
}

describe('mTLS refusals are logged at info with the peer and the real reason, and counted', () => {
  it.each([
    ['TLSv1.3', '1.3'],
    ['TLSv1.2', '1.2'],
  ])('an expired client certificate over %s', async (_, v) => {
    app = await startHttps(env('required'));
    const res = await curlWith(expired.client, 'expired', [
      `--tlsv${v}`,
      '--tls-max',
      v,
      `${app.url}/`,
    ]);
    expect(res.stdout).toBe('');
    const line = await app.logs.waitFor((l) => l.code === 'CERT_HAS_EXPIRED');
    expect(line).toMatchObject({
      level: 'info',
      msg: 'TLS handshake failed: client certificate refused',
      reason: 'bad_certificate',
      remoteAddress: '127.0.0.1',
      subject: 'CN=netlab client',
    });
    expect(line.remotePort).toEqual(expect.any(Number));
    expect(
      await metricValue(
        app.registry,
        'netlab_tls_handshake_errors_total',
        'code="CERT_HAS_EXPIRED",reason="bad_certificate"',
      ),
    ).toBe(1);
    // Counted once: not again as a hang-up when the socket is closed.
    expect(app.logs.find((l) => String(l.msg).startsWith('TLS handshake failed'))).toHaveLength(1);
  });

  it('a client with no certificate', async () => {
    app = await startHttps(env('required'));
    const socket = await tlsConnect(app.port, { ca: pki.ca.cert });
    await new Promise((resolve) => socket.once('close', resolve));
    const line = await app.logs.waitFor((l) => l.code === 'NO_CERTIFICATE');
    expect(line).toMatchObject({
      level: 'info',
      reason: 'no_certificate',
      remoteAddress: '127.0.0.1',
    });
  });

  it('logs a failed handshake (TLS 1.1) at info, with its reason', async () => {
    app = await startHttps();
    await run('openssl', ['s_client', '-connect', `127.0.0.1:${app.port}`, '-tls1_1']).catch(
      () => {},
    );
    const line = await app.logs.waitFor((l) => l.msg === 'TLS handshake failed');
    expect(line).toMatchObject({
      level: 'info',
      reason: 'protocol_version',
      remoteAddress: '127.0.0.1',
    });
    expect(line.code).toBe('ERR_SSL_UNSUPPORTED_PROTOCOL');
    expect(
      await metricValue(
        app.registry,
        'netlab_tls_handshake_errors_total',
        'code="ERR_SSL_UNSUPPORTED_PROTOCOL",reason="protocol_version"',
      ),
    ).toBe(1);
  });
});

describe('TLS_CLIENT_AUTH=optional serves a certificate from a foreign CA (issue 19)', () => {
  it.each([
    ['1.2', '--http1.1'],
    ['1.2', '--http2'],
    ['1.3', '--http1.1'],
    ['1.3', '--http2'],
  ])('over TLS %s %s, with authorized: false and the reason', async (v, h) => {
    app = await startHttps(env('optional'));
    const res = await curlWith(twin.client, 'twin', [
      h,
      `--tlsv${v}`,
      '--tls-max',
      v,
      `${app.url}/whoami`,
    ]);
    expect(JSON.parse(res.stdout).tls.clientCertificate).toMatchObject({
      authorized: false,
      authorizationError: 'CERT_SIGNATURE_FAILURE',
    });
  });
});
