import { readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname } from 'node:path';
import tls from 'node:tls';
import { loadConfig } from '@netlab/common';
import { useApps } from '@netlab/testkit';
import { createDemoPki, prepareTls } from '@netlab/tls';
import { describe, expect, it } from 'vitest';
import { schema } from '../src/config.js';
import { shareWithWorkers } from '../src/worker-tls.js';
import { fileIn, fingerprintOf, MAIN, tempDir, waitUntil } from './helpers.js';

const start = useApps(MAIN);

/** One TLS connection: the certificate it was served, whether it resumed, and its new ticket. */
function handshake(port: number, session?: Buffer) {
  return new Promise<{
    fingerprint: string;
    resumed: boolean;
    ticket: Buffer | undefined;
    pid: number;
  }>((resolve, reject) => {
    const socket = tls.connect({
      port,
      host: '127.0.0.1',
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
      ...(session ? { session } : {}),
    });
    let ticket: Buffer | undefined;
    socket.on('session', (s: Buffer) => {
      ticket = s;
    });
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      const fingerprint = socket.getPeerX509Certificate()?.fingerprint256 ?? 'none';
      const resumed = socket.isSessionReused();
      // A request, so the TLS 1.3 ticket (sent after the handshake) arrives.
      socket.write('GET /whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      let text = '';
      socket.setEncoding('utf8').on('data', (d: string) => {
        text += d;
      });
      socket.once('end', () => {
        const pid = Number(/"pid": (\d+)/.exec(text)?.[1]);
        resolve({ fingerprint, resumed, ticket, pid });
      });
    });
  });
}

describe('https-secure with WORKERS=2', () => {
  it('every worker serves the one generated certificate, and a ticket from one resumes on the other', async () => {
    const app = await start({ WORKERS: '2' });
    // node:cluster hands connections to the workers in turn: six reach both.
    const fresh = [];
    for (let i = 0; i < 6; i++) fresh.push(await handshake(app.port));
    expect(new Set(fresh.map((h) => h.fingerprint)).size).toBe(1);
    expect(fresh[0]!.ticket).toBeDefined();
    // (A resumed handshake carries no certificate, so only whether it resumed is checked.)
    const resumed = [];
    for (let i = 0; i < 6; i++) resumed.push(await handshake(app.port, fresh[0]!.ticket));
    expect(resumed.map((h) => h.resumed)).toEqual([true, true, true, true, true, true]);
    // ...and both workers answered, in turn.
    expect(new Set(fresh.map((h) => h.pid)).size).toBe(2);
    expect(new Set(resumed.map((h) => h.pid)).size).toBe(2);
    const pids = new Set(
      app.logs.find((l) => l.msg === 'worker listening').map((l) => l.workerPid),
    );
    expect(pids.size).toBe(2);
  });

  it('drains both workers on SIGTERM, exits 0 and removes the files it shared with them', async () => {
    const before = new Set((await readdir(tmpdir())).filter((f) => f.startsWith('netlab-https-')));
    const app = await start({ WORKERS: '2' });
    await handshake(app.port);
    app.child.kill('SIGTERM');
    expect((await app.exited).code).toBe(0);
    const after = (await readdir(tmpdir())).filter(
      (f) => f.startsWith('netlab-https-') && !before.has(f),
    );
    expect(after).toEqual([]);
  });
});

describe('what the primary hands its workers', () => {
  it('a generated certificate: its key mode 0600 in a private 0700 directory, removed by cleanup', async () => {
    const prepared = await prepareTls(loadConfig(schema, {}), {
      hostname: 'test',
      commonName: 'https-secure',
    });
    if (!prepared.ok) throw new Error('no certificate');
    const shared = shareWithWorkers(prepared.tls);
    const keyFile = shared.env.TLS_KEY_FILE!;
    try {
      expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
      expect((await stat(dirname(keyFile))).mode & 0o777).toBe(0o700);
      expect(Object.keys(shared.env).sort()).toEqual(['TLS_CERT_FILE', 'TLS_KEY_FILE']);
    } finally {
      shared.cleanup();
    }
    await expect(stat(dirname(keyFile))).rejects.toThrow();
  });
});

describe('SIGHUP with WORKERS=2', () => {
  it('makes every worker serve the new certificate', async () => {
    const [first, second] = await Promise.all([createDemoPki(), createDemoPki()]);
    const dir = await tempDir('hup-workers');
    try {
      const certFile = await fileIn(dir, 'tls.crt', first.server.cert);
      const keyFile = await fileIn(dir, 'tls.key', first.server.key);
      const app = await start({
        WORKERS: '2',
        TLS_CERT_FILE: certFile,
        TLS_KEY_FILE: keyFile,
        TLS_WATCH_INTERVAL_MS: '0',
      });
      await waitUntil(async () => app.logs.find((l) => l.msg === 'worker listening').length === 2, {
        what: 'both workers listening',
      });
      await writeFile(keyFile, second.server.key);
      await writeFile(certFile, second.server.cert);
      app.child.kill('SIGHUP');
      await waitUntil(
        async () => app.logs.find((l) => l.msg === 'certificate reloaded').length === 2,
        { what: 'both workers reloaded' },
      );
      const seen = [];
      for (let i = 0; i < 6; i++) seen.push(await handshake(app.port));
      expect(new Set(seen.map((h) => h.pid)).size).toBe(2);
      expect(new Set(seen.map((h) => h.fingerprint))).toEqual(
        new Set([fingerprintOf(second.server.cert)]),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
