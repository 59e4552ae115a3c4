import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ParseStep,
  ProxyHeaderParser,
  ProxyProtocolError,
  parseProxyHeader,
} from '../src/index.js';
import { inet, tlv, v2, withCrc } from './build.js';

/** Feeds `bytes` in the given chunk sizes; returns the first non-`more` step. */
function feed(bytes: Buffer, cuts: number[]): ParseStep | 'more' {
  const parser = new ProxyHeaderParser();
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  for (const to of [...points, bytes.length]) {
    if (to <= from) continue;
    const step = parser.push(bytes.subarray(from, to));
    if (step.state !== 'more') {
      // What the parser hands back plus what was not yet fed is the rest of the stream.
      return { ...step, rest: Buffer.concat([step.rest, bytes.subarray(to)]) } as ParseStep;
    }
    from = to;
  }
  return 'more';
}

function outcome(run: () => ParseStep | 'more'): unknown {
  try {
    return run();
  } catch (err) {
    // Only our own error, with a code; never a TypeError or a RangeError from a bad read.
    expect(err).toBeInstanceOf(ProxyProtocolError);
    return { code: (err as ProxyProtocolError).code };
  }
}

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
const port = fc.nat(65535);
const rest = fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a));
const anyTlv = fc
  .tuple(
    fc.constantFrom(0x01, 0x02, 0x04, 0x05, 0x30, 0xea, 0xee, 0xe0, 0x7f),
    fc.uint8Array({ maxLength: 40 }),
  )
  .map(([t, v]) => tlv(t, Buffer.from(v)));

const v1Header = fc
  .oneof(
    fc
      .tuple(ipv4, ipv4, port, port)
      .map(([s, d, sp, dp]) => `PROXY TCP4 ${s.join('.')} ${d.join('.')} ${sp} ${dp}\r\n`),
    fc
      .tuple(fc.ipV6(), fc.ipV6(), port, port)
      .map(([s, d, sp, dp]) => `PROXY TCP6 ${s} ${d} ${sp} ${dp}\r\n`),
    fc.constant('PROXY UNKNOWN\r\n'),
  )
  .map((s) => Buffer.from(s, 'latin1'));

const v2Header = fc.oneof(
  fc
    .tuple(ipv4, ipv4, port, port, fc.array(anyTlv, { maxLength: 5 }))
    .map(([s, d, sp, dp, tlvs]) => v2(0x21, 0x11, inet(s, d, sp, dp), ...tlvs)),
  fc
    .tuple(ipv4, ipv4, port, port, fc.array(anyTlv, { maxLength: 5 }))
    .map(([s, d, sp, dp, tlvs]) => withCrc(0x21, 0x11, inet(s, d, sp, dp), ...tlvs)),
  fc
    .tuple(fc.uint8Array({ minLength: 36, maxLength: 36 }), fc.array(anyTlv, { maxLength: 3 }))
    .map(([a, tlvs]) => v2(0x21, 0x21, Buffer.from(a), ...tlvs)),
  fc.constant(v2(0x20, 0x00, Buffer.alloc(0))),
);

const header = fc.oneof(v1Header, v2Header);

describe('the parser, over generated headers', () => {
  it('a valid header followed by anything parses the same in any split, and hands back exactly the rest', () => {
    fc.assert(
      fc.property(header, rest, fc.array(fc.nat(), { maxLength: 8 }), (h, r, cuts) => {
        const whole = parseProxyHeader(Buffer.concat([h, r]));
        expect(whole.state).toBe('done');
        if (whole.state !== 'done') return;
        expect(whole.header.length).toBe(h.length);
        expect(whole.rest).toEqual(r);
        expect(feed(Buffer.concat([h, r]), cuts)).toEqual(whole);
      }),
      { numRuns: 500 },
    );
  });

  it('a header fed one byte at a time is `more` until its last byte, then done', () => {
    fc.assert(
      fc.property(header, (h) => {
        const parser = new ProxyHeaderParser();
        for (let i = 0; i < h.length - 1; i++)
          expect(parser.push(h.subarray(i, i + 1)).state).toBe('more');
        const last = parser.push(h.subarray(h.length - 1));
        expect(last.state).toBe('done');
        expect(parser.buffered).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('a mutated header (bytes flipped, cut, inserted) gives a header, plain, more or a coded error: the same in any split', () => {
    const mutated = fc
      .tuple(
        header,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.nat(),
        fc.nat(),
      )
      .map(([h, flips, cutAt, cutLen]) => {
        const b = Buffer.from(h);
        for (const [at, x] of flips) b[at % b.length] = (b[at % b.length] as number) ^ x;
        const cut = cutAt % b.length;
        return Buffer.concat([
          b.subarray(0, cut),
          b.subarray(Math.min(b.length, cut + (cutLen % 4))),
        ]);
      });
    fc.assert(
      fc.property(mutated, fc.array(fc.nat(), { maxLength: 6 }), (m, cuts) => {
        const whole = outcome(() => parseProxyHeader(m));
        const split = outcome(() => feed(m, cuts));
        // Split input may fail earlier on a prefix, never differently.
        if (typeof whole === 'object' && whole !== null && 'code' in whole)
          expect(split).toEqual(whole);
        else if (whole !== 'more' && (whole as ParseStep).state !== 'more')
          expect(split).toEqual(whole);
      }),
      { numRuns: 1000 },
    );
  });

  it('random bytes never throw anything but a ProxyProtocolError, and the parser never holds more than one header', () => {
    const signatureThenJunk = fc
      .tuple(
        fc.constantFrom('PROXY ', '\r\n\r\n\u0000\r\nQUIT\n', ''),
        fc.uint8Array({ maxLength: 300 }),
      )
      .map(([sig, junk]) => Buffer.concat([Buffer.from(sig, 'latin1'), Buffer.from(junk)]));
    fc.assert(
      fc.property(signatureThenJunk, (bytes) => {
        const parser = new ProxyHeaderParser();
        outcome(() => {
          for (const byte of bytes) {
            const step = parser.push(Buffer.from([byte]));
            if (step.state !== 'more') return step;
            expect(parser.buffered).toBeLessThanOrEqual(16 + 65535);
          }
          return 'more';
        });
        expect(parser.buffered).toBeLessThan(108 + 16 + 300);
      }),
      { numRuns: 1000 },
    );
  });
});
