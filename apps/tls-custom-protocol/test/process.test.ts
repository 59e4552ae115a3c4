import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expectConfigRefused, useApps, waitUntil } from '@netlab/testkit';
import { createDemoPki, writeDemoPki } from '@netlab/tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetlabClient } from '../src/client.js';
import { encodeFrame, RequestType } from '../src/protocol.js';
import { CLI, MAIN, rawConnect } from './helpers.js';
import { makePki } from './pki.js';

const exec = promisify(execFile);
const start = useApps(MAIN);

let dir: string;
let paths: Awaited<ReturnType<typeof writeDemoPki>>;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'netlab-tls-protocol-'));
  paths = await writeDemoPki(join(dir, 'certs'), await createDemoPki({ days: 2 }));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const cli = (args: string[]) =>
  exec(process.execPath, [CLI, ...args], { timeout: 10_000 }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

describe('the tls-custom-protocol process', () => {
  it('drains on SIGTERM: ends an idle connection cleanly, then exits 0', async () => {
    const app = await start({ SHUTDOWN_TIMEOUT_MS: '5000' });
    const client = await NetlabClient.connect({ port: app.port, insecure: true });
    await client.ping();
    app.child.kill('SIGTERM');
    await app.logs.waitFor((l) => l.msg === 'shutting down: draining');
    // The idle connection is ended by the server (no error), and the process exits 0.
    await waitUntil(() => client.socket.destroyed);
    await expect(client.ping()).rejects.toMatchObject({ code: 'NETLAB_ERR_CONNECTION_CLOSED' });
    expect((await app.exited).code).toBe(0);
    expect(app.logs.find((l) => l.msg === 'connection closed')[0]?.reason).toBe('shutdown');
  });

  it('refuses bad config with one line per variable and exit 78', async () => {
    await expectConfigRefused(MAIN, { MAX_FRAME_BYTES: 'lots', TLS_CLIENT_AUTH: 'maybe' }, [
      'TLS_CLIENT_AUTH: expected one of required, optional, got "maybe"',
      'MAX_FRAME_BYTES: expected an integer',
    ]);
    await expectConfigRefused(
      MAIN,
      { TLS_CERT_FILE: paths.serverCert, TLS_KEY_FILE: paths.clientKey },
      ['TLS_KEY_FILE: the key does not belong to the certificate in TLS_CERT_FILE'],
    );
  });

  it('mTLS end to end with the CLI: no certificate → no data; the demo client certificate → INFO shows it', async () => {
    const app = await start({
      TLS_CERT_FILE: paths.serverCert,
      TLS_KEY_FILE: paths.serverKey,
      TLS_CLIENT_CA_FILE: paths.caCert,
    });
    const port = String(app.port);
    const refused = await cli(['ping', '--port', port, '--ca', paths.caCert]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    const ok = await cli([
      'info',
      '--json',
      '--port',
      port,
      '--ca',
      paths.caCert,
      '--cert',
      paths.clientCert,
      '--key',
      paths.clientKey,
    ]);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      authorized: true,
      clientCertificate: { subject: 'CN=netlab client' },
    });
  });

  it('on SIGHUP serves the new certificate to new connections; an open one keeps working', async () => {
    const live = join(dir, 'live');
    const first = await writeDemoPki(live, await createDemoPki({ days: 2 }));
    const app = await start({
      TLS_CERT_FILE: first.serverCert,
      TLS_KEY_FILE: first.serverKey,
      TLS_WATCH_INTERVAL_MS: '0',
    });
    const before = await NetlabClient.connect({
      port: app.port,
      ca: await readFile(first.caCert, 'utf8'),
    });
    const oldPrint = before.socket.getPeerX509Certificate()!.fingerprint256;

    const next = await makePki();
    await writeDemoPki(join(dir, 'next'), next);
    await copyFile(join(dir, 'next', 'server.pem'), first.serverCert);
    await copyFile(join(dir, 'next', 'server-key.pem'), first.serverKey);
    app.child.kill('SIGHUP');
    await app.logs.waitFor((l) => l.msg === 'certificate reloaded');

    const after = await NetlabClient.connect({ port: app.port, ca: next.ca.cert });
    expect(after.socket.getPeerX509Certificate()!.fingerprint256).not.toBe(oldPrint);
    await before.ping(); // the open connection still works
    after.close();
    before.close();
  });

  it('answers the spec worked example sent with openssl s_client byte for byte', async () => {
    const app = await start();
    const { stdout } = await exec('bash', [
      '-c',
      `printf '\\001\\001\\000\\000\\000\\000\\000\\001\\000\\000\\000\\000\\001\\006\\000\\000\\000\\000\\000\\002\\000\\000\\000\\000' | openssl s_client -quiet -alpn netlab/1 -connect 127.0.0.1:${app.port} 2>/dev/null | od -An -tx1 | tr -d ' \\n'`,
    ]);
    expect(stdout).toBe('018100000000000100000000018700000000000200000000');
    // ...and after that hand-built client, the server serves the library's.
    const raw = await rawConnect(app.port, await makePki(), {
      rejectUnauthorized: false,
      ca: undefined,
    });
    raw.socket.write(encodeFrame(RequestType.PING, 9));
    expect((await raw.waitFor((f) => f.id === 9)).type).toBe(0x81);
    raw.socket.destroy();
  });
});
