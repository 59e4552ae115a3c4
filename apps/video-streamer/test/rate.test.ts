import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_RATE, MIN_RATE, pace, readRate } from '../src/rate.js';
import { SAMPLE, type Started, startStreamer } from './helpers.js';

let app: Started;
beforeAll(async () => {
  app = await startStreamer(dirname(SAMPLE));
});
afterAll(() => app.close());

/** GET, with the time from the request to the body's end and when each chunk came. */
function timed(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Buffer; ms: number; at: number[] }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false, headers }, (res) => {
        const chunks: Buffer[] = [];
        const at: number[] = [];
        res.on('data', (d: Buffer) => {
          chunks.push(d);
          at.push(performance.now() - started);
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            body: Buffer.concat(chunks),
            ms: performance.now() - started,
            at,
          }),
        );
      })
      .on('error', reject);
  });
}

describe('?rate= on a download', () => {
  it('sends no faster than the rate, a tenth of a second at a time, every byte intact', async () => {
    // 40,000 bytes at 100,000 B/s: chunks of 10,000 at 0, 100, 200 and 300 ms.
    const res = await timed(`${app.url}/videos/sample.mp4?rate=100000`, {
      range: 'bytes=0-39999',
    });
    expect(res.status).toBe(206);
    expect(res.body.equals((await readFile(SAMPLE)).subarray(0, 40_000))).toBe(true);
    expect(res.ms).toBeGreaterThanOrEqual(300);
    // The first chunk came at once, not after the whole body was paced.
    expect(res.at[0]!).toBeLessThan(res.ms - 250);
  });

  it.each(['1023', '1073741825', 'fast', '-5', ''])(
    'rate=%s is refused with 400 NETLAB_ERR_BAD_RATE',
    async (rate) => {
      const res = await timed(`${app.url}/videos/sample.mp4?rate=${rate}`);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body.toString()).code).toBe('NETLAB_ERR_BAD_RATE');
    },
  );

  it('reads the bounds exactly', () => {
    expect(readRate('')).toBeUndefined();
    expect(readRate('v=1')).toBeUndefined();
    expect(readRate(`rate=${MIN_RATE}`)).toBe(1024);
    expect(readRate(`rate=${MAX_RATE}`)).toBe(1073741824);
    expect(readRate(`rate=${MIN_RATE - 1}`)).toBeNull();
    expect(pace(100_000).chunk).toBe(10_000);
    expect(pace(2000).chunk).toBe(1024);
  });

  it('paces: a chunk may go once the ones before have drained at the rate', () => {
    const p = pace(10_000);
    expect(p.wait(1000)).toBe(0);
    // 1,000 bytes at 10,000 B/s: the next may go 100 ms later.
    const wait = p.wait(1000);
    expect(wait).toBeGreaterThan(90);
    expect(wait).toBeLessThanOrEqual(100);
  });
});
