import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkName, MAX_LABEL, MAX_NAME } from '../src/name.js';
import { checkType } from '../src/record-type.js';

const label = (n: number, c = 'a') => c.repeat(n);
/** A name of exactly `length` characters, in labels of at most 63. */
const nameOf = (length: number) => {
  const labels: string[] = [];
  let left = length;
  while (left > 0) {
    const n = Math.min(MAX_LABEL, left === 1 ? 1 : left - 1 > MAX_LABEL ? MAX_LABEL : left);
    labels.push(label(n));
    left -= n + 1;
  }
  return labels.join('.').slice(0, length);
};

describe('checkName', () => {
  it.each([
    ['example.com', 'example.com'],
    ['Example.COM', 'example.com'],
    ['example.com.', 'example.com'],
    ['_sip._tcp.example.com', '_sip._tcp.example.com'],
    ['localhost', 'localhost'],
    ['bücher.example', 'xn--bcher-kva.example'],
    ['münchen.de.', 'xn--mnchen-3ya.de'],
    ['例え。テスト', 'xn--r8jz45g.xn--zckzah'],
    [`${label(63)}.com`, `${label(63)}.com`],
    [nameOf(253), nameOf(253)],
    [`${nameOf(253)}.`, nameOf(253)],
    // The root: `dig . NS` is a valid question.
    ['.', '.'],
  ])('accepts %s as %s', (input, expected) => {
    expect(checkName(input)).toEqual({ ok: true, name: expected });
  });

  it.each([
    ['', 'name is required'],
    ['example..com', 'empty label'],
    ['.example.com', 'empty label'],
    ['example.com..', 'empty label'],
    ['..', 'empty label'],
    ['bücher..example', 'empty label'],
    [`${label(64)}.com`, 'longer than 63'],
    [nameOf(254), 'longer than 253'],
    [`${nameOf(254)}.`, 'longer than 253'],
    [label(5000), 'longer than 253'],
    ['exa mple.com', 'letters, digits'],
    ['example.com/x', 'letters, digits'],
    ['a%b.com', 'letters, digits'],
    ['bü%cher.com', 'not a valid internationalised name'],
    ['exa\u0000mple.com', 'letters, digits'],
  ])('refuses %j (%s)', (input, why) => {
    const result = checkName(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.detail).toContain(why);
  });

  const ldhLabel = fc.stringMatching(/^[a-z0-9_-]{1,63}$/);

  it('accepts any name of valid labels up to 253 characters, unchanged but for case and one trailing dot', () => {
    fc.assert(
      fc.property(
        fc.array(ldhLabel, { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        (labels, dot) => {
          const name = labels.join('.');
          fc.pre(name.length <= MAX_NAME);
          expect(checkName(`${name.toUpperCase()}${dot ? '.' : ''}`)).toEqual({ ok: true, name });
        },
      ),
    );
  });

  it('decides a lower-case name (its one-pass check) as it decides the same name in upper case', () => {
    const text = fc.stringMatching(/^[a-z0-9_.-]{0,300}$/);
    const labels = fc
      .array(fc.stringMatching(/^[a-z0-9_-]{0,70}$/), { minLength: 1, maxLength: 6 })
      .map((l) => l.join('.'));
    fc.assert(
      fc.property(fc.oneof(text, labels), fc.boolean(), (name, dot) => {
        const input = `${name}${dot ? '.' : ''}`;
        const lower = checkName(input);
        const upper = checkName(input.toUpperCase());
        expect(lower.ok).toBe(upper.ok);
        if (lower.ok && upper.ok) expect(lower.name).toBe(upper.name);
      }),
      { numRuns: 2000 },
    );
  });

  it('never accepts a name whose result breaks the DNS length rules, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (input) => {
        const result = checkName(input);
        if (!result.ok || result.name === '.') return;
        expect(result.name.length).toBeLessThanOrEqual(MAX_NAME);
        for (const l of result.name.split('.')) {
          expect(l.length).toBeGreaterThanOrEqual(1);
          expect(l.length).toBeLessThanOrEqual(MAX_LABEL);
          expect(l).toMatch(/^[a-z0-9_-]+$/);
        }
      }),
    );
  });

  it('is idempotent: a checked name checks as itself', () => {
    fc.assert(
      fc.property(fc.domain(), (input) => {
        const first = checkName(input);
        if (first.ok) expect(checkName(first.name)).toEqual(first);
      }),
    );
  });

  it('quotes at most 80 characters of what the client sent in a refusal', () => {
    const long = `${'a'.repeat(100)}!.test`;
    expect(checkName(long)).toEqual({
      ok: false,
      detail: `Invalid name \`${'a'.repeat(77)}...\`: label "${'a'.repeat(77)}..." is longer than 63 characters`,
    });
    const eighty = `${'b'.repeat(79)}!`;
    const result = checkName(eighty);
    expect(result.ok === false && result.detail.startsWith(`Invalid name \`${eighty}\``)).toBe(
      true,
    );
  });
});

describe('checkType', () => {
  it.each([
    [undefined, 'A'],
    ['', 'A'],
    ['a', 'A'],
    ['mx', 'MX'],
    ['Txt', 'TXT'],
    ['28', 'AAAA'],
    ['255', 'ANY'],
    ['257', 'CAA'],
    ['35', 'NAPTR'],
  ])('takes %j as %s', (input, type) => {
    expect(checkType(input)).toEqual({ ok: true, type });
  });

  it.each(['XYZ', '0', '99', '65536', '1.0', '-1', 'A ', 'DNSKEY', 'toString', '__proto__'])(
    'refuses %j with the list of types',
    (input) => {
      const result = checkType(input);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.detail).toMatch(/^Invalid type `.*`: expected one of A, NS/);
    },
  );
});
