import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const FIXTURE = fileURLToPath(new URL('./fixtures/slow-link.mjs', import.meta.url));

/** A private network namespace needs root (CI runs as root); elsewhere this is reported skipped. */
const canUnshare = (() => {
  try {
    execFileSync('unshare', ['-n', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!canUnshare)('UDP_REPLY_QUEUE_MAX (in a network namespace of its own)', () => {
  it('answers no more than the kernel takes: past the limit, datagrams are counted, not answered', async () => {
    const port = 41234;
    const count = 200;
    const queueMax = 4;
    // On an ordinary loopback a reply never waits: the kernel takes it at
    // once. Here the listener's replies (source port 41234) leave through a
    // 1 Mbit/s class, so its send buffer fills and replies wait in Node,
    // as they would behind a saturated link. The client's datagrams go fast.
    const script = [
      'set -e',
      'ip link set lo up',
      'tc qdisc add dev lo root handle 1: htb default 10',
      'tc class add dev lo parent 1: classid 1:10 htb rate 10gbit',
      'tc class add dev lo parent 1: classid 1:20 htb rate 1mbit ceil 1mbit',
      `tc filter add dev lo parent 1: protocol ip u32 match ip sport ${port} 0xffff flowid 1:20`,
      `exec "${process.execPath}" "${FIXTURE}" ${port} ${count} ${queueMax}`,
    ].join('\n');
    const { stdout } = await exec('unshare', ['-n', 'sh', '-c', script], { timeout: 15_000 });
    const stats = JSON.parse(stdout) as {
      totals: { datagrams: number; replies: number; suppressed: { rate: number; queue: number } };
    };
    const { datagrams, replies, suppressed } = stats.totals;
    expect(datagrams).toBe(count);
    expect(suppressed.rate).toBe(0);
    expect(suppressed.queue).toBeGreaterThan(0);
    // Every datagram was answered, suppressed, or is one of the few replies still waiting.
    expect(replies + suppressed.queue).toBeGreaterThanOrEqual(count - queueMax);
  });
});
