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
    ['bytes=0-1,,3-4', { type: 'multiple', count: 2 }],
    ['bytes=0-0,-1', { type: 'multiple', count: 2 }],
    ['bytes=20-30, 1-2', { type: 'range', start: 1, end: 2 }],
    ['bytes=5-2, 0-1', { type: 'range', start: 0, end: 1 }],
  ])('%s → %o', (header, expected) => {
    expect(parseRange(header, 9)).toEqual(expected);
  });

  it('on an empty file: bytes=0- is unsatisfiable, a suffix gets the whole (empty) file', () => {
    expect(parseRange('bytes=0-', 0)).toEqual({ type: 'unsatisfiable' });
    expect(parseRange('bytes=-5', 0)).toEqual({ type: 'none' });
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
        expect(['none', 'unsatisfiable', 'range', 'multiple']).toContain(
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
          } else expect(r.type).toBe('multiple');
        },
      ),
    );
  });
});
