import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { captureLogs } from '@netlab/testkit';
import { describe, expect, it, onTestFinished } from 'vitest';

const FIXTURE = fileURLToPath(new URL('./fixtures/handoff-primary.mjs', import.meta.url));

describe('trackHandoffs (Node internals: cluster-handoffs.ts)', () => {
  it('closes the connection the primary handed a worker killed before it took it', async () => {
    const primary = spawn(process.execPath, [FIXTURE], { stdio: ['pipe', 'pipe', 'inherit'] });
    onTestFinished(() => {
      primary.stdin.end();
    });
    const { logs } = captureLogs(primary.stdout);
    const { port, workerPid } = (await logs.waitFor((l) => typeof l.port === 'number')) as {
      port: number;
      workerPid: number;
    };
    const client = net.connect({ port, host: '127.0.0.1' });
    client.on('error', () => {});
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    // Sent to the worker, which will never acknowledge it.
    await logs.waitFor((l) => l.pending === 1);
    process.kill(workerPid, 'SIGKILL');
    expect((await logs.waitFor((l) => typeof l.closed === 'number')).closed).toBe(1);
    // The primary's copy was the last open end: the client sees the close.
    const deadline = new Promise<string>((resolve) => {
      setTimeout(() => resolve('still open after 5 s'), 5000).unref();
    });
    expect(await Promise.race([closed.then(() => 'closed'), deadline])).toBe('closed');
  });
});
