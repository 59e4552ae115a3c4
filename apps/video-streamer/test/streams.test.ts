import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, ftruncateSync, openSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect, procStatusBytes, useApps, waitUntil } from '@netlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIN, openFds, tempDir } from './helpers.js';

const exec = promisify(execFile);
const start = useApps(MAIN);
const MiB = 1024 * 1024;

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  dir = await tempDir();
  // Sparse: they take no disk, and reading them costs no I/O.
  for (const [name, size] of [
    ['big.mp4', 64 * MiB],
    ['rss.mp4', 32 * MiB],
  ] as const) {
    const fd = openSync(join(dir.path, name), 'w');
    ftruncateSync(fd, size);
    closeSync(fd);
  }
});
afterAll(() => dir.remove());

/** The app's open-streams gauge, from its admin /metrics. */
async function activeStreams(adminPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('netlab_media_streams_active{'));
  return Number(line?.slice(line.lastIndexOf(' ') + 1));
}

/**
 * Starts a download of big.mp4 and resets the connection: once its first
 * body bytes arrive, or at once, before the server has even opened the file.
 */
async function abortMidStream(port: number, when: 'streaming' | 'at once'): Promise<void> {
  const socket = await connect(port);
  socket.write('GET /videos/big.mp4 HTTP/1.1\r\nHost: x\r\n\r\n');
  if (when === 'streaming') await once(socket, 'data');
  socket.resetAndDestroy();
}

describe('files and memory under load', () => {
  it('closes the file of every client that leaves mid-stream: open fds return to their baseline', async () => {
    const app = await start({ MEDIA_DIR: dir.path });
    // One full request first, so whatever Node opens lazily is in the baseline.
    await abortMidStream(app.port, 'streaming');
    await waitUntil(async () => (await activeStreams(app.adminPort)) === 0);
    const baseline = await openFds(app.pid);

    for (const when of ['streaming', 'at once', 'streaming', 'at once'] as const) {
      await Promise.all(Array.from({ length: 50 }, () => abortMidStream(app.port, when)));
    }
    await waitUntil(async () => (await activeStreams(app.adminPort)) === 0, {
      what: 'every stream to end',
    });
    await waitUntil(async () => (await openFds(app.pid)) <= baseline, {
      what: `open fds back to ${baseline}`,
    });
    // Each one that got as far as a response is logged as abandoned (499).
    await waitUntil(
      () => app.logs.find((l) => l.path === '/videos/big.mp4' && l.status === 499).length > 100,
      { what: 'access log lines with 499' },
    );
  });

  // An end-to-end check at full speed, sized to take seconds: RSS is
  // dominated by Node itself here, and the bound that matters (how many
  // buffers downloads hold, whatever their length) is asserted exactly by
  // buffers.test.ts with stalled clients. The bench's "32 downloads at
  // once" runs 32 x 256 MiB against the same 150 MB limit.
  it('keeps RSS under 150 MB through 32 simultaneous downloads of a 32 MiB file (curl -Z)', async () => {
    const app = await start({ MEDIA_DIR: dir.path });
    const url = `http://127.0.0.1:${app.port}/videos/rss.mp4`;
    const args = ['-s', '--fail', '-Z', '--parallel-immediate', '--parallel-max', '32'];
    args.push('-w', '%{size_download}\\n');
    for (let i = 0; i < 32; i++) args.push('-o', '/dev/null', url);
    const { stdout } = await exec('curl', args, { maxBuffer: MiB });
    const sizes = stdout.trim().split('\n').map(Number);
    expect(sizes).toEqual(Array(32).fill(32 * MiB));
    const peakMB = (await procStatusBytes(app.pid, 'VmHWM')) / 1e6;
    expect(peakMB, `peak RSS ${peakMB.toFixed(1)} MB`).toBeLessThan(150);
  }, 60_000);

  it('closes a download whose client stops reading after IDLE_TIMEOUT_MS, and its file with it', async () => {
    const app = await start({ MEDIA_DIR: dir.path, IDLE_TIMEOUT_MS: '400' });
    const baseline = await openFds(app.pid);
    const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
      http
        .get(`http://127.0.0.1:${app.port}/videos/big.mp4`, { agent: false }, resolve)
        .on('error', reject),
    );
    res.pause();
    res.on('error', () => {});
    expect(await app.logs.waitFor((l) => l.msg === 'idle connection closed')).toMatchObject({
      remoteAddress: '127.0.0.1',
      reason: 'idle',
    });
    await waitUntil(async () => (await openFds(app.pid)) <= baseline, { what: 'the file closed' });
    // The server cut it, not the client: logged as the idle cut, not 499.
    expect(await app.logs.waitFor((l) => l.path === '/videos/big.mp4')).toMatchObject({
      status: 408,
      code: 'NETLAB_ERR_IDLE_TIMEOUT',
      reason: 'idle',
    });
    res.destroy();
  });

  it('closes connections past MAX_CONNECTIONS at once and counts them', async () => {
    const app = await start({ MEDIA_DIR: dir.path, MAX_CONNECTIONS: '2' });
    const held = [await connect(app.port), await connect(app.port)];
    const third = await connect(app.port);
    third.on('error', () => {});
    await once(third, 'close');
    await app.logs.waitFor((l) => l.msg === 'connection rejected: MAX_CONNECTIONS reached');
    for (const s of held) s.destroy();
  });

  it('answers a client that never finishes its headers with 408 after HEADERS_TIMEOUT_MS', async () => {
    const app = await start({ MEDIA_DIR: dir.path, HEADERS_TIMEOUT_MS: '300' });
    const socket = await connect(app.port);
    socket.write('GET /videos/big.mp4 HTTP/1.1\r\nHost: x\r\n');
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    await once(socket, 'close');
    const text = Buffer.concat(chunks).toString();
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(text).toContain('"code":"NETLAB_ERR_REQUEST_TIMEOUT"');
  });
});
