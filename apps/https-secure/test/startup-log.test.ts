import { X509Certificate } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createDemoPki, writeDemoPki } from '@netlab/tls';
import { afterEach, describe, expect, it } from 'vitest';
import { type Started, startHttps, tempDir } from './helpers.js';

// The line at start that says which certificate is served and where it came
// from: what an operator reads first when a client does not trust it.

let app: Started | undefined;
let dir: string | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

const certificateLines = (a: Started) =>
  a.logs.lines.filter((l) => typeof l.msg === 'string' && /^serving /.test(l.msg));

describe('the certificate line at start', () => {
  it('generated at start: says so, with the certificate it serves', async () => {
    app = await startHttps();
    const served = new X509Certificate(app.ca);
    expect(certificateLines(app)).toMatchObject([
      {
        level: 'info',
        msg: 'serving a self-signed certificate generated at start (TLS_CERT_DIR keeps one)',
        source: 'generated',
        fingerprint256: served.fingerprint256,
        validTo: new Date(served.validTo).toISOString(),
      },
    ]);
    expect(certificateLines(app)[0]).not.toHaveProperty('certFile');
    expect(app.logs.find((l) => l.msg === 'client certificates requested (mTLS)')).toEqual([]);
  });

  it('TLS_CERT_FILE: names the file', async () => {
    dir = await tempDir('startup-files');
    const paths = await writeDemoPki(dir, await createDemoPki());
    app = await startHttps({ TLS_CERT_FILE: paths.serverCert, TLS_KEY_FILE: paths.serverKey });
    expect(certificateLines(app)).toMatchObject([
      {
        level: 'info',
        msg: 'serving the certificate from TLS_CERT_FILE',
        source: 'files',
        certFile: paths.serverCert,
        fingerprint256: new X509Certificate(app.ca).fingerprint256,
      },
    ]);
  });

  it('TLS_CERT_DIR: a new certificate says why it was made; the next start reuses it and says that', async () => {
    dir = await tempDir('startup-dir');
    app = await startHttps({ TLS_CERT_DIR: dir });
    const first = certificateLines(app);
    expect(first).toMatchObject([
      {
        level: 'info',
        msg: 'serving a new self-signed certificate, stored in TLS_CERT_DIR',
        source: 'cert-dir',
        certFile: join(dir, 'cert.pem'),
      },
    ]);
    expect(typeof first[0]!.created).toBe('string');
    const fingerprint = first[0]!.fingerprint256;
    await app.close();
    app = await startHttps({ TLS_CERT_DIR: dir });
    const second = certificateLines(app);
    expect(second).toMatchObject([
      {
        msg: 'serving the self-signed certificate stored in TLS_CERT_DIR',
        source: 'cert-dir',
        certFile: join(dir, 'cert.pem'),
        fingerprint256: fingerprint,
      },
    ]);
    expect(second[0]).not.toHaveProperty('created');
  });

  it.each(['required', 'optional'])(
    'TLS_CLIENT_AUTH=%s: a second line says client certificates are asked for',
    async (auth) => {
      dir = await tempDir('startup-mtls');
      const paths = await writeDemoPki(dir, await createDemoPki());
      app = await startHttps({
        TLS_CERT_FILE: paths.serverCert,
        TLS_KEY_FILE: paths.serverKey,
        TLS_CLIENT_CA_FILE: paths.caCert,
        TLS_CLIENT_AUTH: auth,
      });
      expect(app.logs.find((l) => l.msg === 'client certificates requested (mTLS)')).toMatchObject([
        { level: 'info', clientAuth: auth },
      ]);
    },
  );
});
