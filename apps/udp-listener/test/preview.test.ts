import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { preview } from '../src/preview.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('preview', () => {
  it.each([
    ['plain text, tabs and newlines', bytes('hi\tthere\r\n'), { text: 'hi\tthere\r\n' }],
    ['UTF-8', bytes('grüße, 世界'), { text: 'grüße, 世界' }],
    ['a terminal escape (ESC [ 2 J)', bytes('\x1b[2J'), { hex: '1b5b324a' }],
    ['a NUL', Uint8Array.of(0x61, 0x00), { hex: '6100' }],
    ['a C1 control (U+009B, CSI)', bytes('a\u009b'), { hex: '61c29b' }],
    ['a bidi override (U+202E)', bytes('a\u202eb'), { hex: '61e280ae62' }],
    ['invalid UTF-8', Uint8Array.of(0xff, 0xfe), { hex: 'fffe' }],
    ['a character cut by the end of a whole datagram', Uint8Array.of(0x61, 0xc3), { hex: '61c3' }],
    ['nothing', new Uint8Array(0), { text: '' }],
    // A leading BOM is a byte the sender sent: shown, not swallowed by the decoder.
    ['a BOM', bytes('\uFEFFhi'), { text: '\uFEFFhi' }],
  ])('%s', (_, data, expected) => {
    expect(preview(data, data.length)).toEqual({ ...expected, truncated: false });
  });

  it('drops a character cut by the preview limit instead of switching to hex', () => {
    const full = bytes('aé'); // 61 c3 a9
    expect(preview(full.subarray(0, 2), full.length)).toEqual({ text: 'a', truncated: true });
  });

  it('always gives back exactly the bytes it was shown (text re-encodes, hex decodes)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.string().map(bytes)), (data) => {
        const p = preview(data, data.length);
        const back = 'text' in p ? bytes(p.text) : Buffer.from(p.hex, 'hex');
        expect(Buffer.from(back).equals(Buffer.from(data))).toBe(true);
      }),
    );
  });
});
