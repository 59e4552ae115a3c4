/**
 * The Range header (RFC 9110 §14), for a file of `size` bytes.
 *
 * - `none`: serve the whole file with 200. The unit is not `bytes`
 *   (§14.2: a server MUST ignore a unit it does not understand), the value
 *   is not a range set at all (`asdf`), or the file is empty and the range
 *   starts at 0 or is a suffix (`bytes=0-`, `bytes=-5`): there is no byte to
 *   put in a `Content-Range`, and §14.2 lets a server ignore Range, so the
 *   empty body comes with 200, as nginx and Go's `http.ServeContent` do. A
 *   416 there would leave a player no request that works.
 * - `unsatisfiable`: 416 with `Content-Range: bytes *\/size`. No range
 *   overlaps the file: `bytes=-0`, a start at or past the end, or a range
 *   whose last byte comes before its first (`bytes=5-2`, invalid by §14.1.1;
 *   §14.2 lets a server reject it, and send does the same).
 * - `too-many`: more than `maxRanges` ranges listed (§14.2: a server MAY
 *   reject "many small ranges"); 416 with a code of its own.
 * - `range`: one range, 206 with `Content-Range: bytes start-end/size`.
 *   Ends past the file are clamped (§14.1.2).
 * - `multiple`: more than one range is left after coalescing the ones that
 *   overlap or touch (§14.2 allows coalescing); 206 multipart/byteranges.
 *   Coalescing is what disarms the 2011 Apache range DoS (CVE-2011-3192:
 *   `bytes=0-,0-,0-,…` made it send the file once per range): after it the
 *   parts never hold a byte twice, so a multipart body is at most the file
 *   plus one small part header per range, and the ranges are at most
 *   `maxRanges`. The parts keep the order the client asked for (§14.2
 *   SHOULD); a coalesced part takes the place of its first member.
 */
export type RangeResult =
  | { readonly type: 'none' }
  | { readonly type: 'unsatisfiable' }
  | { readonly type: 'too-many' }
  | { readonly type: 'range'; readonly start: number; readonly end: number }
  | { readonly type: 'multiple'; readonly ranges: ReadonlyArray<ByteRange> };

export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

const NONE: RangeResult = { type: 'none' };
const UNSATISFIABLE: RangeResult = { type: 'unsatisfiable' };
const TOO_MANY: RangeResult = { type: 'too-many' };

// int-range / suffix-range of §14.1.1: `first-pos "-" [ last-pos ]` or `"-" suffix-length`.
const SPEC = /^(\d*)-(\d*)$/;

/** Parses `header` (the Range value) against a file of `size` bytes. */
export function parseRange(header: string, size: number, maxRanges = Infinity): RangeResult {
  const eq = header.indexOf('=');
  if (eq === -1 || header.slice(0, eq).toLowerCase() !== 'bytes') return NONE;
  // A range set is a #list (§5.6.1): OWS around commas, empty elements ignored.
  const specs = header
    .slice(eq + 1)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (specs.length === 0) return NONE;

  // [start, end, index in the header]
  const ranges: Array<[number, number, number]> = [];
  let emptyFile = false;
  for (const spec of specs) {
    const m = SPEC.exec(spec);
    if (m === null) return NONE; // not a byte range set at all: ignore the header
    const [, first = '', last = ''] = m;
    if (first === '' && last === '') return NONE; // a lone "-"
    if (first === '') {
      // Suffix range: the last N bytes, or the whole file if it is shorter.
      const length = Number(last);
      if (length === 0) continue; // §14.1.1: a zero suffix is never satisfiable
      if (size === 0) emptyFile = true;
      else ranges.push([Math.max(0, size - length), size - 1, ranges.length]);
      continue;
    }
    const start = Number(first);
    const end = last === '' ? size - 1 : Number(last);
    if (size === 0 && start === 0) {
      emptyFile = true; // `bytes=0-`, `bytes=0-N` of an empty file: see `none`
      continue;
    }
    if (end < start || start >= size) continue; // invalid or past the end
    ranges.push([start, Math.min(end, size - 1), ranges.length]);
  }
  // Counted as listed, before coalescing: the work of parsing and sorting
  // is bounded too, and a client learns the limit whatever it asked for.
  if (specs.length > maxRanges) return TOO_MANY;
  if (ranges.length === 0) return emptyFile ? NONE : UNSATISFIABLE;

  const merged = coalesce(ranges);
  if (merged.length === 1) {
    const [[start, end]] = merged as [[number, number, number]];
    return { type: 'range', start, end };
  }
  return { type: 'multiple', ranges: merged.map(([start, end]) => ({ start, end })) };
}

/**
 * Merges ranges that overlap or are adjacent; the result is in the order of
 * each merged range's first member in the header.
 */
function coalesce(ranges: Array<[number, number, number]>): Array<[number, number, number]> {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number, number]> = [];
  for (const [start, end, index] of sorted) {
    const last = out.at(-1);
    if (last !== undefined && start <= last[1] + 1) {
      last[1] = Math.max(last[1], end);
      last[2] = Math.min(last[2], index);
    } else out.push([start, end, index]);
  }
  return out.sort((a, b) => a[2] - b[2]);
}
