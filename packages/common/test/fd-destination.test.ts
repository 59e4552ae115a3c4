import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { FdDestination } from '../src/fd-destination.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function fifo(): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), 'fd-destination-'));
  const path = join(dir, 'fifo');
  execFileSync('mkfifo', [path]);
  return path;
}

/** Opens the write end without blocking, once a reader has the other end open. */
async function openWriter(path: string): Promise<number> {
  for (;;) {
    try {
      return openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (err) {
      // ENXIO: the reader has not opened its end yet.
      if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw err;
      await sleep(5);
    }
  }
}

describe('FdDestination', () => {
  it('writes lines and bytes in order', async () => {
    dir = await mkdtemp(join(tmpdir(), 'fd-destination-'));
    const path = join(dir, 'out');
    const fd = openSync(path, 'w');
    const destination = new FdDestination(fd);
    destination.write('{"a":1}\n');
    destination.writeBytes(Buffer.from('{"b":"é"}\n'));
    destination.write('{"c":3}\n');
    closeSync(fd);
    expect(await readFile(path, 'utf8')).toBe('{"a":1}\n{"b":"é"}\n{"c":3}\n');
  });

  it('waits out a full non-blocking pipe (EAGAIN) instead of losing lines', async () => {
    const path = await fifo();
    const out = join(dir!, 'out');
    // The reader opens the pipe at once but reads only later: by then our
    // writes have filled the pipe's 64 KiB and met EAGAIN.
    const reader = spawn('sh', ['-c', 'exec 3<"$0"; sleep 0.3; exec cat <&3 >"$1"', path, out], {
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => reader.once('exit', resolve));
    const fd = await openWriter(path);
    const gone: unknown[] = [];
    const destination = new FdDestination(fd, (err) => gone.push(err));
    const line = `{"y":"${'y'.repeat(1000)}"}\n`;
    for (let i = 0; i < 1024; i++) destination.writeBytes(Buffer.from(line));
    closeSync(fd);
    await exited;
    expect(gone).toEqual([]);
    expect(await readFile(out, 'utf8')).toBe(line.repeat(1024));
  });

  it('stops logging, once and quietly, when the reader is gone (EPIPE)', async () => {
    const path = await fifo();
    const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const fd = await openWriter(path);
    const gone: NodeJS.ErrnoException[] = [];
    const destination = new FdDestination(fd, (err) => gone.push(err));
    destination.write('{"before":true}\n');
    closeSync(readFd);
    expect(() => {
      for (let i = 0; i < 10; i++) destination.write('{"after":true}\n');
    }).not.toThrow();
    expect(gone.map((err) => err.code)).toEqual(['EPIPE']);
    closeSync(fd);
  });
});
