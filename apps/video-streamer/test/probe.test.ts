import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mp4Info } from '../src/mp4-info.js';
import { webmInfo } from '../src/webm-info.js';
import { SAMPLE, tempDir } from './helpers.js';

const WEBM = fileURLToPath(new URL('./fixtures/tiny.webm', import.meta.url));

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(() => dir.remove());

/** Runs `probe` on `bytes` written to a file. */
async function probeBytes(probe: typeof mp4Info, bytes: Buffer) {
  const path = join(dir.path, 'fuzz');
  writeFileSync(path, bytes);
  const fd = openSync(path, 'r');
  try {
    return await probe(fd, bytes.length);
  } finally {
    closeSync(fd);
  }
}

// Whoever fills MEDIA_DIR chooses these bytes: a broken or hostile header
// must give "unknown", never a throw, a hang or a huge allocation.
describe.each([
  ['mp4Info', mp4Info, SAMPLE],
  ['webmInfo', webmInfo, WEBM],
] as const)('%s on damaged files', (_, probe, sample) => {
  const good = readFileSync(sample);

  it('never throws on a real file with bytes of its headers changed or cut', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(4095), fc.nat(255)), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: good.length }),
        async (flips, cut) => {
          const bytes = Buffer.from(good.subarray(0, cut));
          for (const [at, value] of flips) if (at < bytes.length) bytes[at] = value;
          const info = await probeBytes(probe, bytes);
          expect(info.codecs.length).toBeLessThanOrEqual(8);
          expect(info.duration === null || Number.isFinite(info.duration)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('never throws on random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), async (raw) => {
        const info = await probeBytes(probe, Buffer.from(raw));
        expect(Array.isArray(info.codecs)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});
