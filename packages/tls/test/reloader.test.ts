import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { createLogger } from '@netlab/common';
import { LogCapture, waitUntil } from '@netlab/testkit';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type CertificateReloader,
  createDemoPki,
  type DemoPki,
  prepareTls,
  secureContextOptions,
  watchCertificates,
} from '../src/index.js';
import { fileIn, run, tempDir, weakPair } from './helpers.js';

let first: DemoPki;
let second: DemoPki;
beforeAll(async () => {
  [first, second] = await Promise.all([createDemoPki(), createDemoPki()]);
});

let server: tls.Server | undefined;
let reloader: CertificateReloader | undefined;
let dir: string | undefined;
afterEach(async () => {
  reloader?.stop();
  server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  server = undefined;
  reloader = undefined;
  dir = undefined;
});

async function start(watchIntervalMs: number) {
  dir = await tempDir('reload');
  const certFile = await fileIn(dir, 'tls.crt', pad(first.server.cert));
  const keyFile = await fileIn(dir, 'tls.key', pad(first.server.key));
  // Whole seconds, so a copy can carry exactly the same mtime.
  for (const file of [certFile, keyFile]) await utimes(file, MTIME, MTIME);
  const prepared = await prepareTls(
    {
      TLS_CERT_FILE: certFile,
      TLS_KEY_FILE: keyFile,
      TLS_CERT_DIR: undefined,
      TLS_SAN: [],
      TLS_KEY_TYPE: 'ec',
      TLS_CLIENT_CA_FILE: undefined,
      TLS_CLIENT_AUTH: 'required',
      TLS_SESSION_TICKETS: true,
      TLS_WATCH_INTERVAL_MS: watchIntervalMs,
      TLS_HANDSHAKE_TIMEOUT_MS: 10_000,
    },
    { hostname: 'test', commonName: 'test' },
  );
  if (!prepared.ok) throw new Error(JSON.stringify(prepared.issues));
  server = tls.createServer(secureContextOptions(prepared.tls.credentials, undefined), (s) =>
    s.end('ok'),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const logs = new LogCapture();
  const logger = createLogger({
    service: 'tls-test',
    version: 'test',
    level: 'debug',
    destination: logs,
  });
  const results: string[] = [];
  reloader = watchCertificates(server, prepared.tls, {
    logger,
    watchIntervalMs,
    onResult: (r) => results.push(r),
  });
  return { certFile, keyFile, port: (server.address() as AddressInfo).port, logs, results };
}

function served(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerX509Certificate()!.fingerprint256);
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

const fingerprintOf = (pem: string) => new X509Certificate(pem).fingerprint256;
// Every file the same size, so only the inode tells the new one from the old.
const pad = (pem: string) => pem.padEnd(4096, '\n');
const MTIME = 1_700_000_000;

describe('watchCertificates', () => {
  it('keeps the session ticket keys across a reload, so tickets issued before still resume', async () => {
    const { certFile, keyFile } = await start(0);
    const keys = server!.getTicketKeys();
    await writeFile(keyFile, second.server.key);
    await writeFile(certFile, second.server.cert);
    expect(await reloader!.reload('test')).toBe('reloaded');
    expect(server!.getTicketKeys().equals(keys)).toBe(true);
  });

  it('reloads a certificate replaced by rename with its mtime preserved (cp -p, then mv)', async () => {
    const { certFile, keyFile, port, logs } = await start(50);
    const before = await served(port);
    expect(before).toBe(fingerprintOf(first.server.cert));
    // New files, each given the old one's mtime (as `cp -p` of a file made
    // at the same second would), then renamed over the old ones.
    for (const [path, text] of [
      [keyFile, pad(second.server.key)],
      [certFile, pad(second.server.cert)],
    ] as const) {
      const tmp = join(dir!, 'new.tmp');
      await writeFile(tmp, text);
      await utimes(tmp, MTIME, MTIME);
      await rename(tmp, path);
    }
    // What the poll sees: same mtime, same size, another inode.
    expect((await stat(certFile)).size).toBe(4096);
    expect((await stat(certFile)).mtimeMs).toBe(MTIME * 1000);
    await waitUntil(async () => (await served(port)) === fingerprintOf(second.server.cert), {
      what: 'the renamed certificate served',
    });
    expect(logs.find((l) => l.msg === 'certificate reloaded')).toMatchObject([
      { reason: 'file changed' },
    ]);
  });

  it('says unchanged, and sets nothing, when the files hold the same pair', async () => {
    const { logs, results } = await start(0);
    const before = reloader!.current;
    expect(await reloader!.reload('SIGHUP')).toBe('unchanged');
    expect(reloader!.current).toBe(before);
    expect(logs.find((l) => l.msg === 'certificate reload: unchanged')).toMatchObject([
      { level: 'debug', reason: 'SIGHUP' },
    ]);
    expect(logs.find((l) => l.msg === 'certificate reloaded')).toEqual([]);
    expect(results).toEqual([]);
  });

  it('logs the new certificate, never its key, and makes it current', async () => {
    const { certFile, keyFile, logs, results } = await start(0);
    await writeFile(keyFile, second.server.key);
    await writeFile(certFile, second.server.cert);
    expect(await reloader!.reload('SIGHUP')).toBe('reloaded');
    const leaf = new X509Certificate(second.server.cert);
    expect(reloader!.current.info.fingerprint256).toBe(leaf.fingerprint256);
    const [line] = logs.find((l) => l.msg === 'certificate reloaded');
    expect(line).toMatchObject({
      level: 'info',
      reason: 'SIGHUP',
      fingerprint256: leaf.fingerprint256,
      validTo: new Date(leaf.validTo).toISOString(),
    });
    expect(JSON.stringify(line)).not.toContain('PRIVATE KEY');
    expect(results).toEqual(['reloaded']);
  });

  it('keeps the current certificate when the new file is not a certificate, and says why', async () => {
    const { certFile, port, logs, results } = await start(0);
    await writeFile(certFile, 'half-written');
    expect(await reloader!.reload('SIGHUP')).toBe('failed');
    expect(await served(port)).toBe(fingerprintOf(first.server.cert));
    expect(
      logs.find((l) => l.msg === 'certificate reload failed: keeping the current certificate'),
    ).toMatchObject([
      {
        level: 'error',
        reason: 'SIGHUP',
        code: 'NETLAB_ERR_TLS_BAD_PEM',
        fingerprint256: fingerprintOf(first.server.cert),
      },
    ]);
    expect(results).toEqual(['failed']);
  });

  it('reloads a renewed certificate that keeps its key (certbot --reuse-key)', async () => {
    const { certFile, keyFile, port } = await start(0);
    const keyOnly = join(dir!, 'same.key');
    await writeFile(keyOnly, first.server.key);
    const { stdout: renewed } = await run('openssl', [
      'req',
      '-x509',
      '-key',
      keyOnly,
      '-subj',
      '/CN=renewed',
      '-days',
      '2',
      '-addext',
      'subjectAltName=DNS:localhost',
    ]);
    await writeFile(certFile, renewed);
    expect((await stat(keyFile)).size).toBe(4096);
    expect(await reloader!.reload('SIGHUP')).toBe('reloaded');
    expect(await served(port)).toBe(fingerprintOf(renewed));
  });
});

describe('watchCertificates: other sources and outcomes', () => {
  const config = (env: Partial<Parameters<typeof prepareTls>[0]>) => ({
    TLS_CERT_FILE: undefined,
    TLS_KEY_FILE: undefined,
    TLS_CERT_DIR: undefined,
    TLS_SAN: [],
    TLS_KEY_TYPE: 'ec' as const,
    TLS_CLIENT_CA_FILE: undefined,
    TLS_CLIENT_AUTH: 'required' as const,
    TLS_SESSION_TICKETS: true,
    TLS_WATCH_INTERVAL_MS: 0,
    TLS_HANDSHAKE_TIMEOUT_MS: 10_000,
    ...env,
  });
  async function prepared(env: Partial<Parameters<typeof prepareTls>[0]>) {
    const result = await prepareTls(config(env), { hostname: 'test', commonName: 'test' });
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    server = tls.createServer(secureContextOptions(result.tls.credentials, undefined));
    return result.tls;
  }
  function logged() {
    const logs = new LogCapture();
    const logger = createLogger({
      service: 'tls-test',
      version: 'test',
      level: 'debug',
      destination: logs,
    });
    return { logs, logger };
  }
  const failedLine = (logs: LogCapture) =>
    logs.find((l) => l.msg === 'certificate reload failed: keeping the current certificate');

  it('a certificate generated in memory: nothing to reload, and no file watched', async () => {
    const tlsPrepared = await prepared({});
    const { logs, logger } = logged();
    // With an interval: a generated source has no file to give fs.watchFile.
    reloader = watchCertificates(server!, tlsPrepared, { logger, watchIntervalMs: 1000 });
    expect(await reloader.reload('SIGHUP')).toBe('no-files');
    expect(
      logs.find(
        (l) => l.msg === 'certificate reload: nothing to reload, it was generated in memory',
      ),
    ).toMatchObject([{ level: 'info', reason: 'SIGHUP' }]);
  });

  it('a key of another certificate: failed, and the line names TLS_CERT_FILE', async () => {
    const { keyFile, logs } = await start(0);
    await writeFile(keyFile, second.server.key);
    expect(await reloader!.reload('SIGHUP')).toBe('failed');
    expect(failedLine(logs)).toMatchObject([
      {
        code: 'NETLAB_ERR_TLS_KEY_MISMATCH',
        err: 'the key does not belong to the certificate in TLS_CERT_FILE',
      },
    ]);
  });

  it('TLS_CERT_DIR: reloads its files, and a bad pair there is named cert-dir', async () => {
    dir = await tempDir('reload-dir');
    const tlsPrepared = await prepared({ TLS_CERT_DIR: dir });
    const { logs, logger } = logged();
    reloader = watchCertificates(server!, tlsPrepared, { logger, watchIntervalMs: 0 });
    await writeFile(join(dir, 'key.pem'), second.server.key);
    expect(await reloader.reload('SIGHUP')).toBe('failed');
    expect(failedLine(logs)).toMatchObject([
      {
        code: 'NETLAB_ERR_TLS_KEY_MISMATCH',
        err: 'the key does not belong to the certificate in cert-dir',
      },
    ]);
    await writeFile(join(dir, 'cert.pem'), second.server.cert);
    expect(await reloader.reload('SIGHUP')).toBe('reloaded');
    expect(reloader.current.info.fingerprint256).toBe(fingerprintOf(second.server.cert));
  });

  it('without onResult: a pair OpenSSL refuses is NETLAB_ERR_TLS_CONTEXT, a good one reloads', async () => {
    dir = await tempDir('reload-weak');
    const certFile = await fileIn(dir, 'tls.crt', first.server.cert);
    const keyFile = await fileIn(dir, 'tls.key', first.server.key);
    const tlsPrepared = await prepared({ TLS_CERT_FILE: certFile, TLS_KEY_FILE: keyFile });
    const { logs, logger } = logged();
    reloader = watchCertificates(server!, tlsPrepared, { logger, watchIntervalMs: 0 });
    const weak = await weakPair();
    await writeFile(keyFile, weak.key);
    await writeFile(certFile, weak.cert);
    expect(await reloader.reload('SIGHUP')).toBe('failed');
    expect(failedLine(logs)).toMatchObject([
      {
        code: 'NETLAB_ERR_TLS_CONTEXT',
        err: 'error:0A00018F:SSL routines::ee key too small',
      },
    ]);
    await writeFile(keyFile, second.server.key);
    await writeFile(certFile, second.server.cert);
    expect(await reloader.reload('SIGHUP')).toBe('reloaded');
  });
});
