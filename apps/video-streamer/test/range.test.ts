import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRange } from '../src/range.js';

describe('parseRange (RFC 9110 §14) on a 9-byte file', () => {
  it.each([
    ['bytes=0-4', { type: 'range', start: 0, end: 4 }],
    ['bytes=0-0', { type: 'range', start: 0, end: 0 }],
    ['bytes=2-5', { type: 'range', start: 2, end: 5 }],
    ['bytes=-3', { type: 'range', start: 6, end: 8 }],
    ['bytes=3-', { type: 'range', start: 3, end: 8 }],
    ['bytes=2-50', { type: 'range', start: 2, end: 8 }],
    ['bytes=-50', { type: 'range', start: 0, end: 8 }],
    ['bytes=0-99999999999999999999999', { type: 'range', start: 0, end: 8 }],
    ['BYTES=1-2', { type: 'range', start: 1, end: 2 }],
    ['bytes=9-50', { type: 'unsatisfiable' }],
    ['bytes=-0', { type: 'unsatisfiable' }],
    ['bytes=5-2', { type: 'unsatisfiable' }],
    ['bytes=9-', { type: 'unsatisfiable' }],
    ['bytes=20-30, 40-50', { type: 'unsatisfiable' }],
    ['items=0-4', { type: 'none' }],
    ['asdf', { type: 'none' }],
    ['bytes=', { type: 'none' }],
    ['bytes=-', { type: 'none' }],
    ['bytes=a-b', { type: 'none' }],
    ['bytes=0-4;x', { type: 'none' }],
    ['bytes=1-2, 0-0', { type: 'range', start: 0, end: 2 }],
    ['bytes=0-3,2-5', { type: 'range', start: 0, end: 5 }],
    [
      'bytes=0-1,,3-4',
      {
        type: 'multiple',
        ranges: [
          { start: 0, end: 1 },
          { start: 3, end: 4 },
        ],
      },
    ],
    [
      'bytes=0-0,-1',
      {
        type: 'multiple',
        ranges: [
          { start: 0, end: 0 },
          { start: 8, end: 8 },
        ],
      },
    ],
    // The parts keep the client's order; a coalesced part takes its first member's place.
    [
      'bytes=5-6,0-1',
      {
        type: 'multiple',
        ranges: [
          { start: 5, end: 6 },
          { start: 0, end: 1 },
        ],
      },
    ],
    [
      'bytes=6-7,0-1,5-5',
      {
        type: 'multiple',
        ranges: [
          { start: 5, end: 7 },
          { start: 0, end: 1 },
        ],
      },
    ],
    ['bytes=0-1,20-30', { type: 'range', start: 0, end: 1 }],
    // CVE-2011-3192's shape: the same bytes over and over coalesce into one range.
    ['bytes=0-,0-,0-,0-,0-,0-', { type: 'range', start: 0, end: 8 }],
    ['bytes=20-30, 1-2', { type: 'range', start: 1, end: 2 }],
    ['bytes=5-2, 0-1', { type: 'range', start: 0, end: 1 }],
  ])('%s → %o', (header, expected) => {
    expect(parseRange(header, 9)).toEqual(expected);
  });

  it('on an empty file: a range from 0 or a suffix gets the whole (empty) file, as nginx does', () => {
    expect(parseRange('bytes=0-', 0)).toEqual({ type: 'none' });
    expect(parseRange('bytes=0-0', 0)).toEqual({ type: 'none' });
    expect(parseRange('bytes=-5', 0)).toEqual({ type: 'none' });
    expect(parseRange('bytes=5-', 0)).toEqual({ type: 'unsatisfiable' });
  });

  it('refuses more than maxRanges ranges, counted as listed, and accepts exactly maxRanges', () => {
    expect(parseRange('bytes=0-0,2-2,4-4', 9, 3)).toEqual({
      type: 'multiple',
      ranges: [
        { start: 0, end: 0 },
        { start: 2, end: 2 },
        { start: 4, end: 4 },
      ],
    });
    expect(parseRange('bytes=0-0,2-2,4-4,6-6', 9, 3)).toEqual({ type: 'too-many' });
    expect(parseRange('bytes=0-0,0-0,0-0,0-0', 9, 3)).toEqual({ type: 'too-many' });
    // Unsatisfiable ones count too: the limit bounds what is parsed, not what is served.
    expect(parseRange('bytes=0-0,5-2,20-30,4-4', 9, 3)).toEqual({ type: 'too-many' });
  });
});

describe('parseRange properties', () => {
  const size = fc.integer({ min: 0, max: 1_000_000 });
  const pos = fc.integer({ min: 0, max: 2_000_000 });

  it('a single satisfiable range always lies inside the file', () => {
    fc.assert(
      fc.property(size, pos, fc.option(pos), (n, first, last) => {
        const r = parseRange(`bytes=${first}-${last ?? ''}`, n);
        if (r.type === 'range') {
          expect(r.start).toBe(first);
          expect(r.end).toBeLessThan(n);
          expect(r.start).toBeLessThanOrEqual(r.end);
        } else if (n === 0 && first === 0) {
          // An empty file asked from its start: 200 with the empty body, as nginx and Go.
          expect(r.type).toBe('none');
        } else {
          expect(r.type).toBe('unsatisfiable');
          expect(first >= n || (last !== null && last < first)).toBe(true);
        }
      }),
    );
  });

  it('a suffix range is the last min(N, size) bytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), pos, (n, suffix) => {
        const r = parseRange(`bytes=-${suffix}`, n);
        if (suffix === 0) expect(r.type).toBe('unsatisfiable');
        else expect(r).toEqual({ type: 'range', start: Math.max(0, n - suffix), end: n - 1 });
      }),
    );
  });

  it('never throws, whatever the header', () => {
    fc.assert(
      fc.property(fc.string(), size, (header, n) => {
        expect(['none', 'unsatisfiable', 'range', 'multiple', 'too-many']).toContain(
          parseRange(header, n).type,
        );
      }),
    );
  });

  it('coalesced ranges cover exactly the union of the requested bytes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.array(fc.tuple(fc.nat(250), fc.nat(250)), { minLength: 1, maxLength: 6 }),
        (n, pairs) => {
          const header = `bytes=${pairs.map(([a, b]) => `${a}-${b}`).join(',')}`;
          const wanted = new Set<number>();
          for (const [a, b] of pairs) for (let i = a; i <= Math.min(b, n - 1); i++) wanted.add(i);
          const r = parseRange(header, n);
          if (wanted.size === 0) expect(r.type).toBe('unsatisfiable');
          else if (r.type === 'range') {
            expect(r.end - r.start + 1).toBe(wanted.size);
            expect(wanted.has(r.start) && wanted.has(r.end)).toBe(true);
          } else {
            expect(r.type).toBe('multiple');
            if (r.type !== 'multiple') return;
            // Disjoint, not touching, and together exactly the wanted bytes.
            const got = r.ranges.flatMap(({ start, end }) =>
              Array.from({ length: end - start + 1 }, (_, i) => start + i),
            );
            expect(got.length).toBe(wanted.size);
            expect(new Set(got)).toEqual(wanted);
            const sorted = [...r.ranges].sort((a, b) => a.start - b.start);
            for (let i = 1; i < sorted.length; i++) {
              expect(sorted[i]!.start).toBeGreaterThan(sorted[i - 1]!.end + 1);
            }
          }
        },
      ),
    );
  });
});
