import { chmod, readFile, rm, stat, writeFile } from 'node:fs/promises';
import http2 from 'node:http2';
import { join } from 'node:path';
import { expectConfigRefused, readyz, useApps } from '@netlab/testkit';
import { createDemoPki, type DemoPki } from '@netlab/tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fileIn,
  fingerprintOf,
  get1,
  h2request,
  MAIN,
  servedFingerprint,
  tempDir,
  waitUntil,
} from './helpers.js';

const start = useApps(MAIN);

let pki: DemoPki;
let other: DemoPki;
let dir: string;
beforeAll(async () => {
  [pki, other] = await Promise.all([createDemoPki(), createDemoPki()]);
  dir = await tempDir('process');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('the https-secure process', () => {
  it('drains on SIGTERM: HTTP/2 and HTTP/1.1 requests in flight complete, then exit 0', async () => {
    const certFile = await fileIn(dir, 'drain.crt', pki.server.cert);
    const keyFile = await fileIn(dir, 'drain.key', pki.server.key);
    const app = await start({
      TLS_CERT_FILE: certFile,
      TLS_KEY_FILE: keyFile,
      SHUTDOWN_TIMEOUT_MS: '10000',
    });
    const url = `https://127.0.0.1:${app.port}`;
    const session = http2.connect(url, { ca: pki.ca.cert });
    const slow2 = h2request(session, '/delay/1000');
    const slow1 = get1(`${url}/delay/1000`, { ca: pki.ca.cert });
    await app.logs.waitFor(() => true); // started
    await waitUntil(
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${app.adminPort}/metrics`)).text();
        return /^netlab_http_requests_in_flight\S* 2$/m.test(text);
      },
      { what: 'both requests in flight' },
    );
    app.child.kill('SIGTERM');
    await app.logs.waitFor((l) => l.msg === 'shutting down: draining');
    expect(await readyz(app)).toBe(503);
    const [r2, r1] = await Promise.all([slow2, slow1]);
    expect(JSON.parse(r2.body)).toEqual({ delayMs: 1000 });
    expect(JSON.parse(r1.body)).toEqual({ delayMs: 1000 });
    expect(r1.headers.connection).toBe('close');
    session.close();
    expect((await app.exited).code).toBe(0);
  });

  it('sends GOAWAY to an idle HTTP/2 session at SIGTERM and exits well before SHUTDOWN_TIMEOUT_MS', async () => {
    const app = await start({ SHUTDOWN_TIMEOUT_MS: '30000' });
    const session = http2.connect(`https://127.0.0.1:${app.port}`, { rejectUnauthorized: false });
    session.on('error', () => {});
    expect((await h2request(session, '/')).status).toBe(200);
    // Idle now, and kept open by the client.
    const goaway = new Promise<number>((resolve) => session.once('goaway', resolve));
    const started = performance.now();
    app.child.kill('SIGTERM');
    expect(await goaway).toBe(http2.constants.NGHTTP2_NO_ERROR);
    expect((await app.exited).code).toBe(0);
    expect(performance.now() - started).toBeLessThan(5000);
    session.destroy();
  });

  it('logs the fingerprint and names of a generated certificate, never the key', async () => {
    const app = await start({ TLS_SAN: 'netlab.test,192.0.2.10' });
    const line = await app.logs.waitFor((l) => typeof l.fingerprint256 === 'string');
    expect(line.fingerprint256).toBe(await servedFingerprint(app.port));
    expect(line.subjectAltNames).toEqual(
      expect.arrayContaining([
        'DNS:localhost',
        'IP Address:127.0.0.1',
        'DNS:netlab.test',
        'IP Address:192.0.2.10',
      ]),
    );
    expect(app.logs.dump()).not.toContain('PRIVATE KEY');
  });

  it('reuses the certificate in TLS_CERT_DIR across restarts, its key mode 0600', async () => {
    const certDir = join(dir, 'cert-dir');
    const first = await start({ TLS_CERT_DIR: certDir });
    const created = await first.logs.waitFor((l) => typeof l.fingerprint256 === 'string');
    expect(created.msg).toBe('serving a new self-signed certificate, stored in TLS_CERT_DIR');
    expect((await stat(join(certDir, 'key.pem'))).mode & 0o777).toBe(0o600);
    const fingerprint = await servedFingerprint(first.port);
    first.child.kill('SIGTERM');
    await first.exited;

    const second = await start({ TLS_CERT_DIR: certDir });
    const reused = await second.logs.waitFor((l) => typeof l.fingerprint256 === 'string');
    expect(reused.msg).toBe('serving the self-signed certificate stored in TLS_CERT_DIR');
    expect(await servedFingerprint(second.port)).toBe(fingerprint);
    expect(fingerprintOf(await readFile(join(certDir, 'cert.pem'), 'utf8'))).toBe(fingerprint);
  });

  it('reloads the certificate files on SIGHUP', async () => {
    const certFile = await fileIn(dir, 'hup.crt', pki.server.cert);
    const keyFile = await fileIn(dir, 'hup.key', pki.server.key);
    const app = await start({
      TLS_CERT_FILE: certFile,
      TLS_KEY_FILE: keyFile,
      TLS_WATCH_INTERVAL_MS: '0',
    });
    expect(await servedFingerprint(app.port)).toBe(fingerprintOf(pki.server.cert));
    await writeFile(keyFile, other.server.key);
    await writeFile(certFile, other.server.cert);
    app.child.kill('SIGHUP');
    await app.logs.waitFor((l) => l.msg === 'certificate reloaded' && l.reason === 'SIGHUP');
    expect(await servedFingerprint(app.port)).toBe(fingerprintOf(other.server.cert));
  });

  it('refuses a key that does not match the certificate: one line, exit 78', async () => {
    const certFile = await fileIn(dir, 'mismatch.crt', pki.server.cert);
    const keyFile = await fileIn(dir, 'mismatch.key', other.server.key);
    await expectConfigRefused(MAIN, { TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile }, [
      'TLS_KEY_FILE: the key does not belong to the certificate in TLS_CERT_FILE',
    ]);
  });

  it.each([
    [
      { TLS_CERT_FILE: '/nonexistent/tls.crt' },
      ['TLS_KEY_FILE: required when TLS_CERT_FILE is set'],
    ],
    [
      { TLS_CERT_FILE: '/nonexistent/tls.crt', TLS_KEY_FILE: '/nonexistent/tls.key' },
      ['TLS_CERT_FILE: cannot read /nonexistent/tls.crt (ENOENT)', 'TLS_KEY_FILE: cannot read'],
    ],
    [
      { TLS_SAN: 'ok.example,bad name' },
      ['TLS_SAN: expected DNS names or IP addresses, got "bad name"'],
    ],
    [{ TLS_CLIENT_AUTH: 'maybe', HSTS_MAX_AGE_S: '-1' }, ['TLS_CLIENT_AUTH:', 'HSTS_MAX_AGE_S:']],
    [{ TLS_CLIENT_CA_FILE: '/nonexistent/ca.pem' }, ['TLS_CLIENT_CA_FILE: cannot read']],
  ])('refuses bad TLS config %o with one line per variable and exit 78', async (env, expected) => {
    await expectConfigRefused(MAIN, env, expected);
  });

  it('refuses a file with no PEM certificate in it', async () => {
    const certFile = await fileIn(dir, 'empty.crt', 'hello\n');
    const keyFile = await fileIn(dir, 'empty.key', pki.server.key);
    await expectConfigRefused(MAIN, { TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile }, [
      'TLS_CERT_FILE: no PEM certificate in it',
    ]);
  });

  // root reads any file, so there the refusal cannot happen.
  it.skipIf(process.getuid?.() === 0)('refuses an unreadable key file', async () => {
    const certFile = await fileIn(dir, 'locked.crt', pki.server.cert);
    const keyFile = await fileIn(dir, 'locked.key', pki.server.key);
    await chmod(keyFile, 0);
    await expectConfigRefused(MAIN, { TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile }, [
      'TLS_KEY_FILE: cannot read',
    ]);
  });
});
