/**
 * The Range header (RFC 9110 §14), for a file of `size` bytes.
 *
 * - `none`: serve the whole file with 200. The unit is not `bytes`
 *   (§14.2: a server MUST ignore a unit it does not understand), the value
 *   is not a range set at all (`asdf`), or the only satisfiable range is a
 *   suffix of an empty file (nothing to put in a Content-Range).
 * - `unsatisfiable`: 416 with `Content-Range: bytes *\/size`. No range
 *   overlaps the file: `bytes=-0`, a start at or past the end, or a range
 *   whose last byte comes before its first (`bytes=5-2`, invalid by §14.1.1;
 *   §14.2 lets a server reject it, and send does the same).
 * - `range`: one range, 206 with `Content-Range: bytes start-end/size`.
 *   Ends past the file are clamped (§14.1.2).
 * - `multiple`: more than one range is left after coalescing the ones that
 *   overlap or touch (§14.2 allows coalescing). We then answer 200 with the
 *   whole file, as §14.2 allows ("a server MAY ignore the Range header") and
 *   as send (Express) does, instead of multipart/byteranges: no player asks
 *   for several ranges, and one body per response keeps the streaming path
 *   (and its memory bound) the same for every answer.
 */
export type RangeResult =
  | { readonly type: 'none' }
  | { readonly type: 'unsatisfiable' }
  | { readonly type: 'range'; readonly start: number; readonly end: number }
  | { readonly type: 'multiple'; readonly count: number };

const NONE: RangeResult = { type: 'none' };
const UNSATISFIABLE: RangeResult = { type: 'unsatisfiable' };

// int-range / suffix-range of §14.1.1: `first-pos "-" [ last-pos ]` or `"-" suffix-length`.
const SPEC = /^(\d*)-(\d*)$/;

/** Parses `header` (the Range value) against a file of `size` bytes. */
export function parseRange(header: string, size: number): RangeResult {
  const eq = header.indexOf('=');
  if (eq === -1 || header.slice(0, eq).toLowerCase() !== 'bytes') return NONE;
  // A range set is a #list (§5.6.1): OWS around commas, empty elements ignored.
  const specs = header
    .slice(eq + 1)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (specs.length === 0) return NONE;

  const ranges: Array<[number, number]> = [];
  let emptySuffix = false;
  for (const spec of specs) {
    const m = SPEC.exec(spec);
    if (m === null) return NONE; // not a byte range set at all: ignore the header
    const [, first = '', last = ''] = m;
    if (first === '' && last === '') return NONE; // a lone "-"
    if (first === '') {
      // Suffix range: the last N bytes, or the whole file if it is shorter.
      const length = Number(last);
      if (length === 0) continue; // §14.1.1: a zero suffix is never satisfiable
      if (size === 0) emptySuffix = true;
      else ranges.push([Math.max(0, size - length), size - 1]);
      continue;
    }
    const start = Number(first);
    const end = last === '' ? size - 1 : Number(last);
    if (end < start || start >= size) continue; // invalid or past the end
    ranges.push([start, Math.min(end, size - 1)]);
  }
  if (ranges.length === 0) return emptySuffix ? NONE : UNSATISFIABLE;

  const merged = coalesce(ranges);
  if (merged.length > 1) return { type: 'multiple', count: merged.length };
  const [[start, end]] = merged as [[number, number]];
  return { type: 'range', start, end };
}

/** Sorts ranges and merges those that overlap or are adjacent. */
function coalesce(ranges: Array<[number, number]>): Array<[number, number]> {
  ranges.sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const [start, end] of ranges) {
    const last = out.at(-1);
    if (last !== undefined && start <= last[1] + 1) last[1] = Math.max(last[1], end);
    else out.push([start, end]);
  }
  return out;
}
