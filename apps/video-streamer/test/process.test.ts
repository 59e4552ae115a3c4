import { once } from 'node:events';
import { closeSync, ftruncateSync, openSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { expectConfigRefused, readyz, spawnApp, useApps, waitUntil } from '@netlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIN, tempDir } from './helpers.js';

const start = useApps(MAIN);
const SIZE = 64 * 1024 * 1024;

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  dir = await tempDir();
  const fd = openSync(join(dir.path, 'big.mp4'), 'w');
  ftruncateSync(fd, SIZE); // sparse: no disk used
  closeSync(fd);
});
afterAll(() => dir.remove());

function refused(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.on('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code));
  });
}

describe('the video-streamer process', () => {
  it('serves the shipped sample when MEDIA_DIR is unset', async () => {
    const app = await start();
    const list = await (await fetch(`http://127.0.0.1:${app.port}/api/videos`)).json();
    expect(list).toEqual([
      expect.objectContaining({ name: 'sample.mp4', type: 'video/mp4', duration: 6 }),
    ]);
  });

  it('drains on SIGTERM: a download in flight completes, new connections are refused, exit 0', async () => {
    const app = await start({ MEDIA_DIR: dir.path, SHUTDOWN_TIMEOUT_MS: '20000' });
    const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
      http
        .get(`http://127.0.0.1:${app.port}/videos/big.mp4`, { agent: false }, resolve)
        .on('error', reject),
    );
    res.pause(); // the download is under way and stalled, holding its file
    app.child.kill('SIGTERM');
    await app.logs.waitFor((l) => l.msg === 'shutting down: draining');
    expect(await readyz(app)).toBe(503);
    expect(await refused(app.port)).toBe('ECONNREFUSED');

    let bytes = 0;
    res.on('data', (d: Buffer) => {
      bytes += d.length;
    });
    res.resume();
    await once(res, 'end');
    expect(bytes).toBe(SIZE);
    const { code } = await app.exited;
    expect(code).toBe(0);
    expect(app.logs.find((l) => l.path === '/videos/big.mp4')[0]).toMatchObject({
      status: 200,
      bytes: SIZE,
    });
    expect(app.logs.lines.at(-1)?.msg).toBe('stopped');
  });

  it('cuts a download still stalled at SHUTDOWN_TIMEOUT_MS, logs it as the shutdown’s cut (503), exits 0', async () => {
    const app = await start({ MEDIA_DIR: dir.path, SHUTDOWN_TIMEOUT_MS: '300' });
    const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
      http
        .get(`http://127.0.0.1:${app.port}/videos/big.mp4`, { agent: false }, resolve)
        .on('error', reject),
    );
    res.pause(); // never reads on
    res.on('error', () => {});
    app.child.kill('SIGTERM');
    expect((await app.exited).code).toBe(0);
    expect(app.logs.find((l) => l.path === '/videos/big.mp4')[0]).toMatchObject({
      status: 503,
      code: 'NETLAB_ERR_SHUTTING_DOWN',
      reason: 'shutdown',
    });
    res.destroy();
  });

  it.each([
    [
      { MEDIA_DIR: '/nonexistent/media' },
      ['MEDIA_DIR: expected a folder, got "/nonexistent/media"'],
    ],
    [
      { STREAM_CHUNK_BYTES: '1', PORT: 'x' },
      ['PORT: expected an integer', 'STREAM_CHUNK_BYTES: expected an integer'],
    ],
    [{ MAX_LISTED_FILES: '0' }, ['MAX_LISTED_FILES:']],
  ])('refuses bad config %o with one line per variable and exit 78', async (env, expected) => {
    await expectConfigRefused(MAIN, env, expected);
  });

  it('refuses a MEDIA_DIR that is a file', async () => {
    await expectConfigRefused(MAIN, { MEDIA_DIR: join(dir.path, 'big.mp4') }, [
      'MEDIA_DIR: expected a folder',
    ]);
  });

  it('exits 1 with a fatal log line when its port is taken', async () => {
    const first = await start();
    const second = spawnApp(MAIN, { PORT: String(first.port), ADMIN_PORT: '0', HOST: '127.0.0.1' });
    const { code } = await second.exited;
    expect(code).toBe(1);
    await waitUntil(() => second.logs.find((l) => l.level === 'fatal').length > 0);
  });
});
