import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { startOnFifo } from './helpers.js';

// Request targets from 1 byte to 64 KiB: well under, around and far over
// PIPE_BUF (4096), the most a pipe keeps in one piece.
const SIZES = [1, 100, 1000, 2000, 4000, 4096, 5000, 10_000, 32_768, 65_536];

describe('WORKERS=2 with stdout on a pipe', () => {
  it('keeps every log line whole, whatever the length of the URL', async () => {
    const app = await startOnFifo({ WORKERS: '2', MAX_HEADER_SIZE: '100000' });
    // A slow reader: once the pipe is full, the workers' writes block
    // part-way, which is when a write bigger than PIPE_BUF gets split and
    // the other worker's lines land in the middle of it.
    app.stdout.pause();
    setTimeout(() => app.stdout.resume(), 500);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const paths = Array.from({ length: 400 }, (_, i) => {
      const size = SIZES[i % SIZES.length]!;
      return `/${String(i).padStart(4, '0')}${'x'.repeat(Math.max(0, size - 5))}`;
    });
    let next = 0;
    const client = async () => {
      while (next < paths.length) {
        const path = paths[next++]!;
        await new Promise<void>((resolve, reject) => {
          http
            .get({ host: '127.0.0.1', port: app.port, path, agent }, (res) => {
              expect(res.statusCode).toBe(404);
              res.resume().on('end', resolve);
            })
            .on('error', reject);
        });
      }
    };
    await Promise.all(Array.from({ length: 16 }, client));
    agent.destroy();
    // Every line is out once the app has drained and exited.
    app.child.kill('SIGTERM');
    await app.closed;

    expect(app.logs.find((l) => l.unparsed === true)).toEqual([]);
    const requests = app.logs.find((l) => l.msg === 'request');
    expect(requests).toHaveLength(paths.length);
    expect(new Set(requests.map((l) => l.pid)).size).toBe(2);
    // Each request is there once; a long path is cut, says so, and keeps its start.
    const byId = new Map(requests.map((l) => [(l.path as string).slice(1, 5), l]));
    for (const path of paths) {
      const line = byId.get(path.slice(1, 5))!;
      expect(line).toBeDefined();
      if (line.pathLength === undefined) expect(line.path).toBe(path);
      else {
        expect(line.pathLength).toBe(path.length);
        expect(path.startsWith((line.path as string).replace(/…$/, ''))).toBe(true);
        expect(line.path as string).toMatch(/…$/);
      }
    }
  });
});
