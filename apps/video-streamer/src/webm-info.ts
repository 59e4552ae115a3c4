import { type MediaInfo, readAt } from './read-at.js';

// Info and Tracks come before the first Cluster in every muxer's output
// (they are what a player needs first); this much of the file holds them.
const HEAD_BYTES = 64 * 1024;
// The most tracks looked at: a file can claim hundreds.
const MAX_TRACKS = 8;

const ID = {
  SEGMENT: 0x18538067,
  INFO: 0x1549a966,
  TIMESTAMP_SCALE: 0x2ad7b1,
  DURATION: 0x4489,
  TRACKS: 0x1654ae6b,
  TRACK_ENTRY: 0xae,
  TRACK_TYPE: 0x83,
  CODEC_ID: 0x86,
  VIDEO: 0xe0,
  PIXEL_WIDTH: 0xb0,
  PIXEL_HEIGHT: 0xba,
  CLUSTER: 0x1f43b675,
} as const;

// Matroska CodecID → the codec string a browser's canPlayType takes.
const CODECS: Record<string, string> = {
  V_VP8: 'vp8',
  V_VP9: 'vp9',
  V_AV1: 'av01',
  'V_MPEG4/ISO/AVC': 'avc1',
  'V_MPEGH/ISO/HEVC': 'hvc1',
  A_OPUS: 'opus',
  A_VORBIS: 'vorbis',
  A_AAC: 'mp4a.40.2',
  A_FLAC: 'flac',
};

interface Element {
  readonly id: number;
  readonly body: number;
  /** Past the element; the buffer's end when the size is unknown or runs past it. */
  readonly end: number;
}

/**
 * Duration, picture size and codecs of a WebM/Matroska file, from the
 * Segment's Info and Tracks elements in its first 64 KiB (EBML, RFC 8794;
 * Matroska, RFC 9559). What is not in those bytes stays unknown.
 */
export async function webmInfo(fd: number, size: number): Promise<MediaInfo> {
  const info: MediaInfo = { duration: null, width: null, height: null, codecs: [] };
  const buf = await readAt(fd, Math.min(size, HEAD_BYTES), 0);
  let segment: Element | undefined;
  for (const e of elements(buf, 0, buf.length)) if (e.id === ID.SEGMENT) segment = e;
  if (segment === undefined) return info;
  for (const e of elements(buf, segment.body, segment.end)) {
    if (e.id === ID.INFO) info.duration = duration(buf, e);
    else if (e.id === ID.TRACKS) {
      let tracks = 0;
      for (const t of elements(buf, e.body, e.end)) {
        if (t.id === ID.TRACK_ENTRY && tracks++ < MAX_TRACKS) trackEntry(buf, t, info);
      }
    } else if (e.id === ID.CLUSTER) break;
  }
  return info;
}

function duration(buf: Buffer, info: Element): number | null {
  let scale = 1_000_000; // nanoseconds per tick, the default
  let ticks: number | undefined;
  for (const e of elements(buf, info.body, info.end)) {
    const len = e.end - e.body;
    if (e.id === ID.TIMESTAMP_SCALE) scale = uint(buf, e);
    else if (e.id === ID.DURATION && len === 8) ticks = buf.readDoubleBE(e.body);
    else if (e.id === ID.DURATION && len === 4) ticks = buf.readFloatBE(e.body);
  }
  if (ticks === undefined || !Number.isFinite(ticks) || ticks <= 0) return null;
  return Math.round(((ticks * scale) / 1e9) * 1000) / 1000;
}

function trackEntry(buf: Buffer, entry: Element, info: MediaInfo): void {
  let codec: string | undefined;
  let type = 0;
  let width: number | undefined;
  let height: number | undefined;
  for (const e of elements(buf, entry.body, entry.end)) {
    if (e.id === ID.TRACK_TYPE) type = uint(buf, e);
    else if (e.id === ID.CODEC_ID)
      codec = buf.toString('latin1', e.body, e.end).replace(/\0+$/, '');
    else if (e.id === ID.VIDEO) {
      for (const v of elements(buf, e.body, e.end)) {
        if (v.id === ID.PIXEL_WIDTH) width = uint(buf, v);
        else if (v.id === ID.PIXEL_HEIGHT) height = uint(buf, v);
      }
    }
  }
  if (codec !== undefined && (type === 1 || type === 2)) info.codecs.push(CODECS[codec] ?? codec);
  if (type === 1 && info.width === null && width !== undefined && height !== undefined) {
    info.width = width;
    info.height = height;
  }
}

/** An unsigned integer element's value (at most 6 bytes are read: larger is not sane here). */
function uint(buf: Buffer, e: Element): number {
  const len = e.end - e.body;
  return len === 0 || len > 6 ? 0 : buf.readUIntBE(e.body, len);
}

/** The EBML elements laid end to end in `from`..`to` of `buf`. */
function* elements(buf: Buffer, from: number, to: number): Generator<Element> {
  let at = from;
  for (let i = 0; i < 256 && at < to; i++) {
    const id = vint(buf, at, true);
    if (id === undefined) return;
    const size = vint(buf, at + id.length, false);
    if (size === undefined) return;
    const body = at + id.length + size.length;
    const end = size.value === undefined ? to : Math.min(to, body + size.value);
    if (body > to) return;
    yield { id: id.value!, body, end };
    if (size.value === undefined || body + size.value > to) return;
    at = end;
  }
}

/**
 * An EBML variable-length integer (RFC 8794 §4): the leading zeros of the
 * first byte give its length. An ID keeps its marker bit; a size drops it,
 * and all ones means "unknown" (value undefined).
 */
function vint(
  buf: Buffer,
  at: number,
  keepMarker: boolean,
): { value: number | undefined; length: number } | undefined {
  const first = buf[at];
  if (first === undefined || first === 0) return undefined;
  const length = Math.clz32(first) - 23;
  if (length > 8 || at + length > buf.length) return undefined;
  let value = keepMarker ? first : first & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let i = 1; i < length; i++) {
    const b = buf[at + i]!;
    value = value * 256 + b;
    allOnes &&= b === 0xff;
  }
  return { value: !keepMarker && allOnes ? undefined : value, length };
}
