import { read } from 'node:fs';

/** Reads up to `length` bytes at `position` of `fd` into `buf`; resolves with the count read. */
const readAt = (fd: number, buf: Buffer, length: number, position: number) =>
  new Promise<number>((resolve, reject) =>
    read(fd, buf, 0, length, position, (err, n) => (err ? reject(err) : resolve(n))),
  );

// A file with more top-level boxes than this is not worth walking for a listing.
const MAX_BOXES = 64;

/**
 * Duration in seconds of an MP4/QuickTime file (ISO/IEC 14496-12), from the
 * `mvhd` box inside `moov`; undefined when it is not there or not sane.
 * Cheap: it reads box headers (a few small reads), never the media data, so
 * it costs the same wherever `moov` is (first with faststart, else last).
 */
export async function mp4Duration(fd: number, size: number): Promise<number | undefined> {
  const moov = await findBox(fd, 0, size, 'moov');
  if (moov === undefined) return undefined;
  const mvhd = await findBox(fd, moov.body, moov.end, 'mvhd');
  if (mvhd === undefined) return undefined;
  const buf = Buffer.alloc(32);
  const bytesRead = await readAt(fd, buf, 32, mvhd.body);
  if (bytesRead < 24) return undefined;
  // Version 0: 32-bit times; version 1: 64-bit creation/modification/duration.
  const version = buf[0];
  const timescale = version === 1 ? buf.readUInt32BE(20) : buf.readUInt32BE(12);
  const duration =
    version === 1 ? (bytesRead < 32 ? 0 : Number(buf.readBigUInt64BE(24))) : buf.readUInt32BE(16);
  if (timescale === 0 || duration === 0) return undefined;
  return Math.round((duration / timescale) * 1000) / 1000;
}

async function findBox(
  fd: number,
  from: number,
  to: number,
  type: string,
): Promise<{ body: number; end: number } | undefined> {
  const head = Buffer.alloc(16);
  let offset = from;
  for (let i = 0; i < MAX_BOXES && offset + 8 <= to; i++) {
    const bytesRead = await readAt(fd, head, 16, offset);
    if (bytesRead < 8) return undefined;
    let size = head.readUInt32BE(0);
    let headerSize = 8;
    if (size === 1) {
      if (bytesRead < 16) return undefined;
      size = Number(head.readBigUInt64BE(8));
      headerSize = 16;
    } else if (size === 0) {
      size = to - offset; // the box runs to the end of its parent
    }
    if (size < headerSize || offset + size > to) return undefined;
    if (head.toString('latin1', 4, 8) === type) {
      return { body: offset + headerSize, end: offset + size };
    }
    offset += size;
  }
  return undefined;
}
