import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isSaneRequestId, requestIdGenerator } from '../src/request-id.js';

describe('request ids', () => {
  it('accepts the usual shapes', () => {
    for (const id of [
      '4bf92f3577b34da6a3ce929d0e0e4736',
      'f47ac10b-58cc-4372-a567-0e02b2c3d479',
      '01ARZ3NDEKTSV4RRFFQ69G5FAV',
      'svc:edge-1/req=42',
      'dGVzdA==',
    ]) {
      expect(isSaneRequestId(id), id).toBe(true);
    }
  });

  // What a client id may be made of: letters, digits and `._~:/+=@-`.
  const ALLOWED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~:/+=@-';
  const allowedChar = fc.constantFrom(...ALLOWED);
  const saneId = fc.string({ unit: allowedChar, minLength: 1, maxLength: 128 });
  // Any other character, weighted towards ASCII where the dangerous ones are.
  const refusedChar = fc
    .oneof(
      fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    )
    .filter((c) => !ALLOWED.includes(c));

  it('accepts any 1 to 128 characters of its alphabet', () => {
    fc.assert(
      fc.property(saneId, (id) => {
        expect(isSaneRequestId(id)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a value with even one character from outside its alphabet, anywhere', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: allowedChar, maxLength: 60 }),
        refusedChar,
        fc.string({ unit: allowedChar, maxLength: 60 }),
        (before, bad, after) => {
          expect(isSaneRequestId(before + bad + after)).toBe(false);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('refuses an empty value and one longer than 128 characters', () => {
    expect(isSaneRequestId('')).toBe(false);
    expect(isSaneRequestId('a'.repeat(128))).toBe(true);
    expect(isSaneRequestId('a'.repeat(129))).toBe(false);
    fc.assert(
      fc.property(fc.string({ unit: allowedChar, minLength: 129, maxLength: 400 }), (id) => {
        expect(isSaneRequestId(id)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  // Header injection (CR, LF, NUL), a broken log line or header list
  // (quote, backslash, comma, semicolon, whitespace), and anything non-ASCII.
  it.each([
    ['CR', 'a\rb'],
    ['LF', 'a\nb'],
    ['CRLF header injection', 'x\r\nSet-Cookie: a=b'],
    ['NUL', 'a\0b'],
    ['space', 'a b'],
    ['tab', 'a\tb'],
    ['comma', 'a,b'],
    ['semicolon', 'a;b'],
    ['double quote', 'a"b'],
    ['backslash', 'a\\b'],
    ['single quote', "a'b"],
    ['angle bracket', '<script>'],
    ['DEL', 'a\x7fb'],
    ['non-ASCII letter', 'ïd'],
    ['line separator', 'a\u2028b'],
    ['trailing newline', 'abc\n'],
  ])('refuses a %s', (_, id) => {
    expect(isSaneRequestId(id)).toBe(false);
  });

  it('counts up from 1 after the prefix, in base 36', () => {
    const next = requestIdGenerator('p');
    expect(Array.from({ length: 37 }, next).slice(0, 2)).toEqual(['p-1', 'p-2']);
    const more = requestIdGenerator('q');
    for (let i = 0; i < 35; i++) more();
    expect(more()).toBe('q-10');
  });

  it('generates ids that are unique, sane and distinct between generators', () => {
    const a = requestIdGenerator();
    const b = requestIdGenerator();
    const ids = new Set<string>();
    for (let i = 0; i < 10_000; i++) ids.add(a());
    for (let i = 0; i < 10_000; i++) ids.add(b());
    expect(ids.size).toBe(20_000);
    for (const id of ids) expect(isSaneRequestId(id)).toBe(true);
  });
});
