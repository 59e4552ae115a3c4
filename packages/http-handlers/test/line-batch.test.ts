import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { LineBatch } from '../src/line-batch.js';

const head = Buffer.from('{"n":');

/** A stream target that records every write. */
function recorder() {
  const writes: string[] = [];
  return { writes, target: { stream: { write: (chunk: string) => writes.push(chunk) } } };
}

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('LineBatch', () => {
  it('writes what was added, in order, once flushed', () => {
    const { writes, target } = recorder();
    const batch = new LineBatch(target, 1024);
    batch.add(head, '1}\n');
    batch.add(head, '"é€"}\n');
    expect(writes).toEqual([]);
    expect(batch.empty).toBe(false);
    batch.flush();
    expect(writes).toEqual(['{"n":1}\n{"n":"é€"}\n']);
    expect(batch.empty).toBe(true);
    batch.flush();
    expect(writes).toHaveLength(1);
  });

  it('never writes more than maxWriteBytes at once, whatever the characters', () => {
    const { writes, target } = recorder();
    const batch = new LineBatch(target, 256);
    const lines = Array.from({ length: 100 }, (_, i) => `"${'€é'.repeat(i % 7)}${i}"}\n`);
    for (const line of lines) batch.add(head, line);
    batch.flush();
    expect(writes.length).toBeGreaterThan(1);
    for (const w of writes) expect(Buffer.byteLength(w)).toBeLessThanOrEqual(256);
    expect(writes.join('')).toBe(lines.map((l) => `{"n":${l}`).join(''));
  });

  it('writes a line longer than a whole batch on its own, after what came before', () => {
    const { writes, target } = recorder();
    const batch = new LineBatch(target, 64);
    const huge = `"${'x'.repeat(500)}"}\n`;
    batch.add(head, '1}\n');
    batch.add(head, huge);
    batch.add(head, '2}\n');
    batch.flush();
    expect(writes).toEqual(['{"n":1}\n', `{"n":${huge}`, '{"n":2}\n']);
  });

  it('writes to a file descriptor directly', async () => {
    dir = await mkdtemp(join(tmpdir(), 'line-batch-'));
    const path = join(dir, 'out');
    const fd = openSync(path, 'w');
    const batch = new LineBatch({ fd }, 4096);
    for (let i = 0; i < 1000; i++) batch.add(head, `${i}}\n`);
    batch.flush();
    closeSync(fd);
    const text = await readFile(path, 'utf8');
    expect(text).toBe(Array.from({ length: 1000 }, (_, i) => `{"n":${i}}\n`).join(''));
  });

  it('waits out a full non-blocking pipe (EAGAIN) instead of losing lines', async () => {
    dir = await mkdtemp(join(tmpdir(), 'line-batch-'));
    const fifo = join(dir, 'fifo');
    const out = join(dir, 'out');
    execFileSync('mkfifo', [fifo]);
    // The reader opens the pipe at once but reads only later: by then our
    // writes have filled the pipe's 64 KiB and met EAGAIN.
    const reader = spawn('sh', ['-c', 'exec 3<"$0"; sleep 0.3; exec cat <&3 >"$1"', fifo, out], {
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => reader.once('exit', resolve));
    let fd: number | undefined;
    while (fd === undefined) {
      try {
        fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      } catch (err) {
        // ENXIO: the reader has not opened its end yet.
        if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw err;
        await sleep(5);
      }
    }
    const batch = new LineBatch({ fd }, 65_536);
    const line = `"${'y'.repeat(1000)}"}\n`;
    for (let i = 0; i < 1024; i++) batch.add(head, line);
    batch.flush();
    closeSync(fd);
    await exited;
    const text = await readFile(out, 'utf8');
    expect(text.length).toBe(1024 * `{"n":${line}`.length);
    expect(text).toBe(`{"n":${line}`.repeat(1024));
  });
});
