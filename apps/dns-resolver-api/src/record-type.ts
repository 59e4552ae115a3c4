/**
 * The record types /resolve answers, with their numbers (IANA "Resource
 * Record (RR) TYPEs"). ANY is the query type 255 (RFC 8482: many servers
 * answer it with one record, or refuse).
 */
export const RECORD_TYPES = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  NAPTR: 35,
  ANY: 255,
  CAA: 257,
} as const;

export type RecordType = keyof typeof RECORD_TYPES;

const BY_NUMBER = new Map<number, RecordType>(
  Object.entries(RECORD_TYPES).map(([name, n]) => [n, name as RecordType]),
);
const DIGITS = /^\d{1,5}$/;

export type TypeCheck = { ok: true; type: RecordType } | { ok: false; detail: string };

/**
 * `type=` as Google's and Cloudflare's resolvers take it: a name in any case
 * (`mx`, `MX`) or its number (`15`); unset or empty means A.
 */
export function checkType(input: string | undefined): TypeCheck {
  if (input === undefined || input === '') return { ok: true, type: 'A' };
  const upper = input.toUpperCase();
  if (Object.hasOwn(RECORD_TYPES, upper)) return { ok: true, type: upper as RecordType };
  if (DIGITS.test(input)) {
    const type = BY_NUMBER.get(Number(input));
    if (type !== undefined) return { ok: true, type };
  }
  const shown = input.length > 20 ? `${input.slice(0, 17)}...` : input;
  return {
    ok: false,
    detail: `Invalid type \`${shown}\`: expected one of ${Object.keys(RECORD_TYPES).join(', ')} or its number`,
  };
}
