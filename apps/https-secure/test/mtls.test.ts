import { rm } from 'node:fs/promises';
import { createDemoPki, type DemoPki, writeDemoPki } from '@netlab/tls';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { get1, get2, run, type Started, startHttps, tempDir } from './helpers.js';

let pki: DemoPki;
let stranger: DemoPki;
let dir: string;
let paths: Awaited<ReturnType<typeof writeDemoPki>>;

beforeAll(async () => {
  [pki, stranger] = await Promise.all([
    createDemoPki(),
    createDemoPki({ caName: 'some other CA', clientName: 'stranger' }),
  ]);
  dir = await tempDir('mtls');
  paths = await writeDemoPki(dir, pki);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const serverEnv = (auth: string) => ({
  TLS_CERT_FILE: paths.serverCert,
  TLS_KEY_FILE: paths.serverKey,
  TLS_CLIENT_CA_FILE: paths.caCert,
  TLS_CLIENT_AUTH: auth,
});

const versions = [
  ['HTTP/1.1', get1],
  ['HTTP/2', get2],
] as const;

describe('TLS_CLIENT_AUTH=required', () => {
  let app: Started;
  // Per test: see answer-control.test.ts (Stryker credits beforeAll code to no test).
  beforeEach(async () => {
    app = await startHttps(serverEnv('required'));
  });
  afterEach(() => app.close());

  describe.each(versions)('over %s', (_, get) => {
    const whoami = (client?: { cert: string; key: string }) =>
      get(`${app.url}/whoami`, { ca: pki.ca.cert, ...client });

    it('lets a client with a certificate from the CA in, and shows it in /whoami', async () => {
      const res = await whoami(pki.client);
      expect(res.status).toBe(200);
      const cert = JSON.parse(res.body).tls.clientCertificate;
      expect(cert).toMatchObject({
        subject: 'CN=netlab client',
        issuer: 'CN=netlab demo CA',
        authorized: true,
        serialNumber: expect.stringMatching(/^[0-9A-F]+$/),
        fingerprint256: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/),
        validFrom: expect.any(String),
        validTo: expect.any(String),
        subjectAltNames: [],
      });
    });

    // TLS 1.3: the client sees the handshake succeed before the server
    // checks its certificate, so the refusal shows up as no application
    // data, not as a failed connect. Assert on the data.
    it('gives a client without a certificate no answer', async () => {
      await expect(whoami()).rejects.toThrow();
    });

    it('gives a client with a certificate from another CA no answer', async () => {
      await expect(whoami(stranger.client)).rejects.toThrow();
    });
  });

  it('curl with --cert gets its subject back; without one it gets nothing', async () => {
    const url = `${app.url}/whoami`;
    const { stdout } = await run('curl', [
      '-sS',
      '--cacert',
      paths.caCert,
      '--cert',
      paths.clientCert,
      '--key',
      paths.clientKey,
      url,
    ]);
    expect(JSON.parse(stdout).tls.clientCertificate.subject).toBe('CN=netlab client');
    const without = await run('curl', ['-sS', '--cacert', paths.caCert, url]).catch(
      (err: { code: number; stdout: string }) => err,
    );
    expect(without.stdout).toBe('');
    expect('code' in without && without.code).not.toBe(0);
  });
});

describe('TLS_CLIENT_AUTH=optional', () => {
  let app: Started;
  beforeEach(async () => {
    app = await startHttps(serverEnv('optional'));
  });
  afterEach(() => app.close());

  it.each(versions)(
    'over %s lets a client without a certificate in and says so',
    async (_, get) => {
      const res = await get(`${app.url}/whoami`, { ca: pki.ca.cert });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body).tls.clientCertificate).toBeNull();
    },
  );

  it('lets a certificate from another CA in, marked not authorized with the reason', async () => {
    const res = await get1(`${app.url}/whoami`, { ca: pki.ca.cert, ...stranger.client });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).tls.clientCertificate).toMatchObject({
      subject: 'CN=stranger',
      authorized: false,
      authorizationError: expect.any(String),
    });
  });

  it('marks a certificate from the CA authorized', async () => {
    const res = await get2(`${app.url}/whoami`, { ca: pki.ca.cert, ...pki.client });
    expect(JSON.parse(res.body).tls.clientCertificate).toMatchObject({
      subject: 'CN=netlab client',
      authorized: true,
    });
  });
});
