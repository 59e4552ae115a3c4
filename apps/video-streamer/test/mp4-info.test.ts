import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mp4Info } from '../src/mp4-info.js';
import { box, tempDir, tinyMp4 } from './helpers.js';

// mp4-info.ts on files built box by box: the edges a real file can reach
// (an unknown duration, a cut mvhd, several video tracks, a flood of tracks).

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(() => dir.remove());

let n = 0;
async function infoOf(bytes: Buffer) {
  const path = join(dir.path, `f${n++}.mp4`);
  await writeFile(path, bytes);
  const fh = await open(path, 'r');
  try {
    return await mp4Info(fh.fd, bytes.length);
  } finally {
    await fh.close();
  }
}

const ftyp = () => box('ftyp', Buffer.from('isom\0\0\x02\0isomiso2', 'latin1'));

/** A `trak` whose handler is `handler` and whose first sample entry is `fourcc`, `width`×`height` for video. */
function trak(handler: 'vide' | 'soun', fourcc: string, width = 0, height = 0): Buffer {
  const hdlr = Buffer.alloc(24);
  hdlr.write(handler, 8, 'latin1');
  // A VisualSampleEntry (or AudioSampleEntry) of 86 bytes: header, reserved, index, then width and height at 32.
  const entry = Buffer.alloc(86);
  entry.writeUInt32BE(86, 0);
  entry.write(fourcc, 4, 'latin1');
  if (handler === 'vide') {
    entry.writeUInt16BE(width, 32);
    entry.writeUInt16BE(height, 34);
  }
  const stsdHead = Buffer.alloc(8);
  stsdHead.writeUInt32BE(1, 4);
  const stsd = box('stsd', stsdHead, entry);
  return box('trak', box('mdia', box('hdlr', hdlr), box('minf', box('stbl', stsd))));
}

function mvhd0(timescale: number, duration: number): Buffer {
  const body = Buffer.alloc(100);
  body.writeUInt32BE(timescale, 12);
  body.writeUInt32BE(duration, 16);
  return box('mvhd', body);
}

describe('mp4Info', () => {
  it('a duration of all ones is "unknown" (ISO 14496-12 §8.2.2.3): null, not 49 days', async () => {
    expect((await infoOf(tinyMp4(0, 1000, 0xffffffffn))).duration).toBeNull();
    expect((await infoOf(tinyMp4(0, 1000, 0xfffffffen))).duration).toBe(4294967.294);
  });

  it('a version-1 mvhd cut before its 64-bit duration ends: null, no throw', async () => {
    const cut = Buffer.alloc(28);
    cut[0] = 1;
    cut.writeUInt32BE(1000, 20);
    const info = await infoOf(Buffer.concat([ftyp(), box('moov', box('mvhd', cut))]));
    expect(info.duration).toBeNull();
  });

  it('the first video track gives the size; every track gives its codec', async () => {
    const info = await infoOf(
      Buffer.concat([
        ftyp(),
        box(
          'moov',
          mvhd0(1000, 2500),
          trak('vide', 'hvc1', 1920, 1080),
          trak('soun', 'Opus'),
          trak('vide', 'avc1', 640, 360),
        ),
      ]),
    );
    expect(info).toMatchObject({ duration: 2.5, width: 1920, height: 1080 });
    expect(info.codecs).toEqual(['hvc1', 'Opus', 'avc1']);
  });

  it('reads at most 8 tracks: a file of thousands costs no more', async () => {
    const tracks = Array.from({ length: 8 }, () => trak('soun', 'Opus'));
    const info = await infoOf(
      Buffer.concat([
        ftyp(),
        box('moov', mvhd0(1000, 1000), ...tracks, trak('vide', 'avc1', 320, 240)),
      ]),
    );
    expect(info.codecs).toHaveLength(8);
    expect(info.width).toBeNull();
  });
});
