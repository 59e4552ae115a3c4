import { type MediaInfo, readAt } from './read-at.js';

// A container with more boxes than this at one level is not worth walking for a listing.
const MAX_BOXES = 64;
// A `moov` up to this size is read in one go and walked in memory (a few
// minutes of video has a few dozen KiB; hours of it, megabytes of sample
// tables): one read instead of one per box.
const MOOV_IN_MEMORY = 1024 * 1024;

/** Reads up to `length` bytes at `position`: of the file, or of a part of it already in memory. */
type Read = (length: number, position: number) => Promise<Buffer>;
// The most tracks looked at: a file can claim thousands.
const MAX_TRACKS = 8;

interface Box {
  readonly type: string;
  /** Offset of the box's body (after its header). */
  readonly body: number;
  /** Offset just past the box. */
  readonly end: number;
}

/**
 * Duration, picture size and codecs of an MP4/QuickTime file (ISO/IEC
 * 14496-12), from its `moov` box: `mvhd` for the duration, and per track
 * (`trak`) the handler type (`hdlr`) and first sample entry (`stsd`) for
 * the codec and, for video, the width and height. Cheap: it reads box
 * headers and a few small boxes, never the media data or the sample
 * tables, so it costs the same wherever `moov` is (first with faststart,
 * else last).
 */
export async function mp4Info(fd: number, size: number): Promise<MediaInfo> {
  const info: MediaInfo = { duration: null, width: null, height: null, codecs: [] };
  let read: Read = (length, position) => readAt(fd, length, position);
  const moov = await findBox(read, 0, size, 'moov');
  if (moov === undefined) return info;
  if (moov.end - moov.body <= MOOV_IN_MEMORY) {
    const body = await readAt(fd, moov.end - moov.body, moov.body);
    read = async (length, position) =>
      body.subarray(position - moov.body, position - moov.body + length);
  }
  let tracks = 0;
  for await (const box of boxes(read, moov.body, moov.end)) {
    if (box.type === 'mvhd') info.duration = await mvhdDuration(read, box);
    else if (box.type === 'trak' && tracks++ < MAX_TRACKS) await track(read, box, info);
  }
  return info;
}

/** The duration in `mvhd`: version 0 has 32-bit times, version 1 64-bit ones. */
async function mvhdDuration(read: Read, mvhd: Box): Promise<number | null> {
  const buf = await read(Math.min(32, mvhd.end - mvhd.body), mvhd.body);
  const version = buf[0];
  let timescale: number;
  let duration: number;
  if (version === 1) {
    if (buf.length < 32) return null;
    timescale = buf.readUInt32BE(20);
    duration = Number(buf.readBigUInt64BE(24));
  } else {
    if (buf.length < 20) return null;
    timescale = buf.readUInt32BE(12);
    duration = buf.readUInt32BE(16);
  }
  // All ones means "unknown" (14496-12 §8.2.2.3).
  if (timescale === 0 || duration === 0 || duration === 0xffffffff) return null;
  return Math.round((duration / timescale) * 1000) / 1000;
}

/** One `trak`: its handler says video or audio, its first sample entry the codec. */
async function track(read: Read, trak: Box, info: MediaInfo): Promise<void> {
  const mdia = await findBox(read, trak.body, trak.end, 'mdia');
  if (mdia === undefined) return;
  const hdlr = await findBox(read, mdia.body, mdia.end, 'hdlr');
  const minf = await findBox(read, mdia.body, mdia.end, 'minf');
  if (hdlr === undefined || minf === undefined) return;
  const handler = (await read(12, hdlr.body)).toString('latin1', 8, 12);
  if (handler !== 'vide' && handler !== 'soun') return;
  const stbl = await findBox(read, minf.body, minf.end, 'stbl');
  const stsd = stbl && (await findBox(read, stbl.body, stbl.end, 'stsd'));
  if (stsd === undefined) return;
  // version+flags, entry_count, then the first sample entry (a box itself).
  const entry = await read(Math.min(512, stsd.end - stsd.body), stsd.body);
  if (entry.length < 16) return;
  const fourcc = entry.toString('latin1', 12, 16);
  const end = Math.min(entry.length, 8 + entry.readUInt32BE(8));
  if (handler === 'vide') {
    // VisualSampleEntry: 8 header, 6 reserved, 2 index, 16 pre-defined, then width, height.
    if (end >= 8 + 36 && info.width === null) {
      info.width = entry.readUInt16BE(8 + 32);
      info.height = entry.readUInt16BE(8 + 34);
    }
    info.codecs.push(videoCodec(fourcc, entry.subarray(8 + 86, end)));
  } else {
    // AudioSampleEntry: 8 header + 28 bytes, then its boxes (esds for AAC).
    info.codecs.push(audioCodec(fourcc, entry.subarray(8 + 36, end)));
  }
}

/** `avc1.PPCCLL` from the avcC box (RFC 6381 §3.3); other codecs by their four letters. */
function videoCodec(fourcc: string, children: Buffer): string {
  const avcC = child(children, 'avcC');
  if ((fourcc === 'avc1' || fourcc === 'avc3') && avcC !== undefined && avcC.length >= 4) {
    return `${fourcc}.${avcC.subarray(1, 4).toString('hex')}`;
  }
  return fourcc;
}

/** `mp4a.40.N` (object type, then audio object type) from the esds box; others by their four letters. */
function audioCodec(fourcc: string, children: Buffer): string {
  const esds = child(children, 'esds');
  if (fourcc !== 'mp4a' || esds === undefined) return fourcc;
  // A full box (4 bytes), then MPEG-4 descriptors (14496-1 §7.2): tag, a 1-4 byte length, body.
  let i = 4;
  const descriptor = (tag: number): boolean => {
    if (esds[i] !== tag) return false;
    i++;
    for (let n = 0; n < 4 && i < esds.length; n++) if ((esds[i++]! & 0x80) === 0) break;
    return true;
  };
  if (!descriptor(0x03)) return fourcc; // ES_Descriptor
  const flags = esds[i + 2] ?? 0;
  i += 3; // ES_ID, flags
  if (flags & 0x80) i += 2; // dependsOn_ES_ID
  if (flags & 0x40) i += 1 + (esds[i] ?? 0); // URL
  if (flags & 0x20) i += 2; // OCR_ES_Id
  if (!descriptor(0x04)) return fourcc; // DecoderConfigDescriptor
  const objectType = esds[i];
  if (objectType === undefined) return fourcc;
  const oti = objectType.toString(16).padStart(2, '0');
  i += 13;
  if (objectType !== 0x40 || !descriptor(0x05) || i >= esds.length) return `${fourcc}.${oti}`;
  return `${fourcc}.${oti}.${esds[i]! >> 3}`; // AudioSpecificConfig: 5 bits of audio object type
}

/** The body of the box `type` among the boxes laid out in `buf`. */
function child(buf: Buffer, type: string): Buffer | undefined {
  for (let at = 0; at + 8 <= buf.length; ) {
    const size = buf.readUInt32BE(at);
    if (size < 8) return undefined;
    if (buf.toString('latin1', at + 4, at + 8) === type) {
      return buf.subarray(at + 8, Math.min(buf.length, at + size));
    }
    at += size;
  }
  return undefined;
}

/** The boxes laid end to end in `from`..`to`, stopping at the first one that does not fit. */
async function* boxes(read: Read, from: number, to: number): AsyncGenerator<Box> {
  let offset = from;
  for (let i = 0; i < MAX_BOXES && offset + 8 <= to; i++) {
    const head = await read(16, offset);
    if (head.length < 8) return;
    let size = head.readUInt32BE(0);
    let headerSize = 8;
    if (size === 1) {
      if (head.length < 16) return;
      size = Number(head.readBigUInt64BE(8));
      headerSize = 16;
    } else if (size === 0) {
      size = to - offset; // the box runs to the end of its parent
    }
    if (size < headerSize || offset + size > to) return;
    yield { type: head.toString('latin1', 4, 8), body: offset + headerSize, end: offset + size };
    offset += size;
  }
}

async function findBox(read: Read, from: number, to: number, type: string) {
  for await (const box of boxes(read, from, to)) if (box.type === type) return box;
  return undefined;
}
