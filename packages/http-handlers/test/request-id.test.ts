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

  it('never lets through a value that could inject a header or break a log line', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (value) => {
        if (!isSaneRequestId(value)) return;
        expect(value.length).toBeGreaterThan(0);
        expect(value.length).toBeLessThanOrEqual(128);
        expect(value).not.toMatch(/[\r\n\0"\\\s,;]/);
        expect(value).toMatch(/^[\x21-\x7e]+$/);
      }),
      { numRuns: 2000 },
    );
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
