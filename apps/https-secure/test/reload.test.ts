import { X509Certificate } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { createDemoPki, type DemoPki } from '@netlab/tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  fileIn,
  fingerprintOf,
  get2,
  metricValue,
  type Started,
  servedFingerprint,
  startHttps,
  tempDir,
  tlsConnect,
  waitUntil,
} from './helpers.js';

let first: DemoPki;
let second: DemoPki;
beforeAll(async () => {
  [first, second] = await Promise.all([createDemoPki(), createDemoPki()]);
});

let app: Started | undefined;
let dir: string | undefined;
afterEach(async () => {
  await app?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  app = undefined;
  dir = undefined;
});

async function startWithFiles(pair: { cert: string; key: string }, env: Record<string, string>) {
  dir = await tempDir('reload');
  const certFile = await fileIn(dir, 'tls.crt', pair.cert);
  const keyFile = await fileIn(dir, 'tls.key', pair.key);
  app = await startHttps({ TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile, ...env });
  return { app, certFile, keyFile };
}

/** GET / on `agent`'s kept-alive connection; resolves with the connection's local port and, on its first request, the served fingerprint. */
function getOn(agent: https.Agent, url: string, ca: string[]) {
  return new Promise<{ status: number; localPort: number; fingerprint?: string }>(
    (resolve, reject) => {
      https
        .get(url, { agent, ca }, (res) => {
          const socket = res.socket as import('node:tls').TLSSocket;
          const seen = {
            status: res.statusCode!,
            localPort: socket.localPort!,
            // Node hands out the peer certificate once per connection: a
            // reused socket says undefined here.
            fingerprint: socket.getPeerX509Certificate()?.fingerprint256,
          };
          res.resume().on('end', () => resolve(seen));
        })
        .on('error', reject);
    },
  );
}

describe('certificate hot reload', () => {
  it('serves a replaced pair to new connections while an open keep-alive connection goes on', async () => {
    const { app, certFile, keyFile } = await startWithFiles(first.server, {
      TLS_WATCH_INTERVAL_MS: '50',
      KEEP_ALIVE_TIMEOUT_MS: '60000',
    });
    const ca = [first.ca.cert, second.ca.cert];
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    const before = await getOn(agent, `${app.url}/`, ca);
    expect(before.fingerprint).toBe(fingerprintOf(first.server.cert));

    // Key first: while only the key is new the pair mismatches, which must
    // keep the old one rather than take the server down.
    await writeFile(keyFile, second.server.key);
    await writeFile(certFile, second.server.cert);
    await waitUntil(
      async () => (await servedFingerprint(app.port)) === fingerprintOf(second.server.cert),
      {
        what: 'the new certificate on a new connection',
      },
    );

    const after = await getOn(agent, `${app.url}/`, ca);
    expect(after.status).toBe(200);
    // The same connection as before (a TLS connection keeps the certificate it began with).
    expect(after.localPort).toBe(before.localPort);
    agent.destroy();

    const reloaded = await app.logs.waitFor((l) => l.msg === 'certificate reloaded');
    expect(reloaded.fingerprint256).toBe(fingerprintOf(second.server.cert));
    expect(JSON.stringify(app.logs.lines)).not.toContain('PRIVATE KEY');
    expect(
      await metricValue(app.registry, 'netlab_tls_certificate_reloads_total', 'result="reloaded"'),
    ).toBe(1);
  });

  it("reports the served certificate's validTo as the expiry gauge, before and after a reload", async () => {
    const { app, certFile, keyFile } = await startWithFiles(first.server, {
      TLS_WATCH_INTERVAL_MS: '0',
    });
    const served = async () => {
      const socket = await tlsConnect(app.port, { ca: '', rejectUnauthorized: false });
      const validTo = socket.getPeerX509Certificate()!.validTo;
      socket.destroy();
      return Date.parse(validTo) / 1000;
    };
    const gauge = () =>
      metricValue(app.registry, 'netlab_tls_certificate_expiry_timestamp_seconds');
    expect(await gauge()).toBe(await served());
    const later = await createDemoPki({ days: 30 });
    await writeFile(keyFile, later.server.key);
    await writeFile(certFile, later.server.cert);
    expect(await app.server.reloadCertificate('test')).toBe('reloaded');
    expect(await gauge()).toBe(await served());
    expect(await gauge()).toBe(Date.parse(new X509Certificate(later.server.cert).validTo) / 1000);
  });

  it('keeps the current pair when the new one is broken, and says so', async () => {
    const { app, keyFile } = await startWithFiles(first.server, { TLS_WATCH_INTERVAL_MS: '0' });
    await writeFile(keyFile, second.server.key); // not the certificate's key
    expect(await app.server.reloadCertificate('test')).toBe('failed');
    const line = await app.logs.waitFor(
      (l) => l.msg === 'certificate reload failed: keeping the current certificate',
    );
    expect(line).toMatchObject({ code: 'NETLAB_ERR_TLS_KEY_MISMATCH', level: 'error' });
    expect(await servedFingerprint(app.port)).toBe(fingerprintOf(first.server.cert));

    await writeFile(keyFile, 'not a key');
    expect(await app.server.reloadCertificate('test')).toBe('failed');
    expect(await servedFingerprint(app.port)).toBe(fingerprintOf(first.server.cert));
    expect(
      await metricValue(app.registry, 'netlab_tls_certificate_reloads_total', 'result="failed"'),
    ).toBe(2);

    await writeFile(keyFile, first.server.key);
    expect(await app.server.reloadCertificate('test')).toBe('unchanged');
  });

  it('still negotiates HTTP/2, and resumes a session from before the reload', async () => {
    const { app, certFile, keyFile } = await startWithFiles(first.server, {
      TLS_WATCH_INTERVAL_MS: '0',
    });
    const ca = first.ca.cert + second.ca.cert;
    const before = await tlsConnect(app.port, { ca });
    const session = await new Promise<Buffer>((resolve) => {
      before.once('session', resolve);
      before.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    before.destroy();
    await writeFile(certFile, second.server.cert);
    await writeFile(keyFile, second.server.key);
    expect(await app.server.reloadCertificate('test')).toBe('reloaded');
    const res = await get2(`${app.url}/whoami`, { ca: second.ca.cert });
    expect(JSON.parse(res.body).tls.alpnProtocol).toBe('h2');
    // The new context kept the ticket keys, so a ticket issued before still resumes.
    const resumed = await tlsConnect(app.port, { ca, session });
    expect(resumed.isSessionReused()).toBe(true);
    resumed.destroy();
  });
});
