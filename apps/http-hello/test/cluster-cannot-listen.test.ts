import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { MAIN } from './helpers.js';

// Issue 22: a port in use is the likeliest first failure. Single-process
// apps said so in one line; with WORKERS=2 each worker and then the primary
// printed a stack trace instead. Now the worker tells the primary the OS's
// code and the primary prints the same one line.
describe('WORKERS=2 on a port another program holds', () => {
  for (const format of ['pretty', 'json'] as const) {
    it(`says so in one line on stderr, with no stack trace (LOG_FORMAT=${format})`, async () => {
      const holder = net.createServer();
      holder.listen(0, '127.0.0.1');
      await once(holder, 'listening');
      const port = (holder.address() as AddressInfo).port;
      try {
        const child = spawn(process.execPath, [MAIN], {
          env: {
            PATH: process.env.PATH ?? '',
            WORKERS: '2',
            HOST: '127.0.0.1',
            PORT: String(port),
            ADMIN_PORT: '0',
            LOG_FORMAT: format,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          stdout += d;
        });
        child.stderr.setEncoding('utf8').on('data', (d: string) => {
          stderr += d;
        });
        const [code] = (await once(child, 'close')) as [number | null];
        expect(code).toBe(1);
        expect(stderr).toBe(
          `http-hello: cannot listen: 127.0.0.1 port ${port} (PORT) is already in use by another process (EADDRINUSE)\n`,
        );
        // No stack trace anywhere: not in a pretty log, not in a JSON one.
        expect(stdout).not.toMatch(/\n\s+at |\\n\s+at /);
        if (format === 'pretty') expect(stdout).toBe('');
      } finally {
        holder.close();
      }
    });
  }
});
