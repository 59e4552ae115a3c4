import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type Client, udpClient } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/one-batch.mjs', import.meta.url));

// biome-ignore lint/suspicious/noExplicitAny: fixture JSON
type Json = any;
let child: ChildProcessByStdio<Writable, Readable, null> | undefined;
let client: Client | undefined;
afterEach(() => {
  child?.kill();
  client?.close();
  child = undefined;
  client = undefined;
});

/**
 * Sends `count` datagrams (`d1`, `d2`, …) to a listener that reads them all
 * in one batch, with every reply still waiting in the socket until the batch
 * is read (test/fixtures/one-batch.mjs says how). Returns what the client
 * got back and the listener's /stats at the end.
 */
async function oneBatch(
  count: number,
  env: Record<string, string>,
): Promise<{ replies: string[]; stats: Json; closed: Json; warnings: Json[] }> {
  const proc = spawn(process.execPath, ['--test-udp-no-try-send', FIXTURE], {
    env: { ...process.env, ...env, COUNT: String(count) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child = proc;
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const { port } = JSON.parse((await lines.next()).value as string) as { port: number };
  const c = await udpClient();
  client = c;
  // The listener is blocked: each datagram waits in its receive buffer.
  for (let i = 1; i <= count; i++) await c.send(`d${i}`, port);
  // A datagram to ourselves and back: loopback delivers in order, so the
  // ones sent before it have reached the listener's buffer too.
  await c.send('mark', c.port);
  expect(String(await c.next())).toBe('mark');
  proc.stdin.end('g');
  const { stats, closed, warnings } = JSON.parse((await lines.next()).value as string) as Json;
  // Every reply was sent before the stats were printed, so it has arrived:
  // one more round trip to a socket of ours proves the client read them all.
  await c.send('last', c.port);
  const replies: string[] = [];
  for (let data = await c.next(); String(data) !== 'last'; data = await c.next()) {
    replies.push(String(data));
  }
  return { replies, stats, closed, warnings };
}

describe('replies waiting in the socket, on any machine (no root, no network namespace)', () => {
  it('answers exactly UDP_REPLY_QUEUE_MAX of a batch; the rest are counted as queue', async () => {
    const { replies, stats } = await oneBatch(10, { UDP_REPLY_QUEUE_MAX: '3' });
    expect(replies).toEqual(['d1', 'd2', 'd3']);
    expect(stats.totals).toMatchObject({
      datagrams: 10,
      replies: 3,
      replyBytes: 6,
      replyErrors: 0,
      suppressed: { queue: 7, rate: 0 },
    });
  });

  it('answers the whole batch when it is exactly UDP_REPLY_QUEUE_MAX', async () => {
    const { replies, stats } = await oneBatch(10, { UDP_REPLY_QUEUE_MAX: '10' });
    expect(replies).toHaveLength(10);
    expect(stats.totals).toMatchObject({ datagrams: 10, replies: 10, suppressed: { queue: 0 } });
  });

  it('a shutdown waits for the replies still queued; datagrams arriving after it began are counted, not answered', async () => {
    const { replies, stats, closed } = await oneBatch(10, {
      SHUTDOWN_AT: '4',
      SHUTDOWN_TIMEOUT_MS: '10000',
    });
    // d1-d3 were answered before the shutdown began, and their replies were
    // still waiting when it did: they went out before the socket closed.
    expect(replies).toEqual(['d1', 'd2', 'd3']);
    // d4 (whose arrival began it) to d10 were still read and counted.
    expect(stats.totals).toMatchObject({
      datagrams: 10,
      replies: 3,
      replyErrors: 0,
      suppressed: { shutdown: 7, queue: 0 },
    });
    expect(closed).toMatchObject({ datagrams: 10, replies: 3 });
  });

  it('a shutdown with SHUTDOWN_TIMEOUT_MS 0 does not wait: the queued replies are dropped, and said so', async () => {
    const { replies, stats, warnings } = await oneBatch(10, {
      SHUTDOWN_AT: '4',
      SHUTDOWN_TIMEOUT_MS: '0',
    });
    expect(warnings).toEqual([
      expect.objectContaining({ waiting: 3, of: 3, msg: expect.stringContaining('dropped') }),
    ]);
    // The socket closed at once, in the middle of the batch: d5-d10 were never read.
    expect(stats.totals).toMatchObject({ datagrams: 4, suppressed: { shutdown: 1 } });
    // Which of the three replies libuv had already written is its business;
    // the counter says exactly which arrived.
    expect(stats.totals.replies).toBe(replies.length);
    expect(stats.totals.replies + stats.totals.replyErrors).toBe(3);
  });
});
