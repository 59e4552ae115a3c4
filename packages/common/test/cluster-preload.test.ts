import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('./fixtures/primary-dies.mjs', import.meta.url));

describe('a cluster worker whose primary dies while it starts', () => {
  it('writes one JSON line (not an EPIPE stack trace) and exits', async () => {
    const child = spawn(process.execPath, [FIXTURE], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    // Both pipes end once the primary and its orphaned worker have exited.
    await Promise.all([once(child.stdout, 'end'), once(child.stderr, 'end')]);
    expect(stderr).toBe('');
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        service: 'fixture',
        version: '9.9.9',
        worker: 0,
        err: expect.objectContaining({ code: 'EPIPE' }),
        msg: 'the primary is gone: exiting',
      }),
    ]);
    expect(lines[0].pid).not.toBe(child.pid);
  });
});
