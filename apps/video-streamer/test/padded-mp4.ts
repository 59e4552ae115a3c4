import { open, readFile } from 'node:fs/promises';

/** Box offsets in `buf`: [type, start, headerSize, size] of each box in from..to. */
function* boxes(buf: Buffer, from: number, to: number) {
  for (let at = from; at + 8 <= to; ) {
    const size = buf.readUInt32BE(at);
    if (size < 8) return;
    yield { type: buf.toString('latin1', at + 4, at + 8), start: at, body: at + 8, end: at + size };
    at += size;
  }
}

/** Every `stco` (32-bit chunk offset table) box in the `moov` of `buf`. */
function chunkTables(buf: Buffer, from: number, to: number): number[] {
  const out: number[] = [];
  for (const b of boxes(buf, from, to)) {
    if (b.type === 'stco') out.push(b.body);
    else if (['moov', 'trak', 'mdia', 'minf', 'stbl'].includes(b.type)) {
      out.push(...chunkTables(buf, b.body, b.end));
    }
  }
  return out;
}

/**
 * Writes `source` (a faststart MP4: moov before mdat, 32-bit chunk offsets)
 * to `dest` with `padding` bytes of nothing inserted in its mdat before the
 * chunk at the middle of the file: a sparse hole, so it costs no disk. It
 * plays the same, but the second half of the media sits `padding` bytes
 * further on, past what a browser reads ahead: reaching it takes a new Range
 * request. Returns where the second half starts.
 */
export async function paddedMp4(source: string, dest: string, padding: number): Promise<number> {
  const buf = await readFile(source);
  const top = [...boxes(buf, 0, buf.length)];
  const mdat = top.find((b) => b.type === 'mdat')!;
  const moov = top.find((b) => b.type === 'moov')!;
  if (moov.start > mdat.start) throw new Error(`${source}: moov after mdat`);
  const tables = chunkTables(buf, moov.body, moov.end);
  const offsets = tables
    .flatMap((t) =>
      Array.from({ length: buf.readUInt32BE(t + 4) }, (_, i) => buf.readUInt32BE(t + 8 + 4 * i)),
    )
    .sort((a, b) => a - b);
  const cut = offsets[Math.floor(offsets.length / 2)]!;
  for (const t of tables) {
    for (let i = 0; i < buf.readUInt32BE(t + 4); i++) {
      const at = t + 8 + 4 * i;
      const offset = buf.readUInt32BE(at);
      if (offset >= cut) buf.writeUInt32BE(offset + padding, at);
    }
  }
  buf.writeUInt32BE(mdat.end - mdat.start + padding, mdat.start);
  const fh = await open(dest, 'w');
  try {
    await fh.write(buf, 0, cut, 0);
    await fh.write(buf, cut, buf.length - cut, cut + padding);
  } finally {
    await fh.close();
  }
  return cut + padding;
}
