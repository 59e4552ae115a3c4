import type {
  AnyRecord,
  CaaRecord,
  MxRecord,
  NaptrRecord,
  RecordWithTtl,
  SoaRecord,
  SrvRecord,
} from 'node:dns';
import { RECORD_TYPES, type RecordType } from './record-type.js';

/**
 * One answer record in dns-json's shape (Cloudflare's `application/dns-json`,
 * Google's `/resolve`): `data` in zone-file presentation format, names in it
 * fully qualified with their trailing dot. `TTL` is present only where the
 * resolver reports one; it is never made up.
 */
export interface AnswerRecord {
  name: string;
  type: number;
  TTL?: number;
  data: string;
}

/**
 * The records of one c-ares answer, and the smallest TTL among them (undefined
 * when none carries one). c-ares reports the TTL only for A and AAAA (with
 * `{ ttl: true }`) and, as the SOA's MINIMUM field, for SOA; it does not say
 * which name in a CNAME chain a record belongs to, so every record is
 * reported under the name asked.
 */
export interface Records {
  answers: AnswerRecord[];
  minTtl: number | undefined;
}

type Raw =
  | RecordWithTtl[]
  | string[]
  | string[][]
  | MxRecord[]
  | SrvRecord[]
  | SoaRecord
  | CaaRecord[]
  | NaptrRecord[]
  | AnyRecord[];

/** Formats what `resolver.resolve*()` returned for `type` as dns-json answer records. */
export function toRecords(name: string, type: RecordType, raw: Raw): Records {
  const out: AnswerRecord[] = [];
  const add = (rrtype: number, data: string, ttl?: number) => {
    out.push(
      ttl === undefined ? { name, type: rrtype, data } : { name, type: rrtype, TTL: ttl, data },
    );
  };
  switch (type) {
    case 'A':
    case 'AAAA':
      for (const r of raw as RecordWithTtl[]) add(RECORD_TYPES[type], r.address, r.ttl);
      break;
    case 'CNAME':
    case 'NS':
    case 'PTR':
      for (const target of raw as string[]) add(RECORD_TYPES[type], fqdn(target));
      break;
    case 'MX':
      for (const r of raw as MxRecord[]) add(RECORD_TYPES.MX, mx(r));
      break;
    case 'TXT':
      for (const chunks of raw as string[][]) add(RECORD_TYPES.TXT, txt(chunks));
      break;
    case 'SRV':
      for (const r of raw as SrvRecord[]) add(RECORD_TYPES.SRV, srv(r));
      break;
    case 'SOA': {
      const r = raw as SoaRecord;
      add(RECORD_TYPES.SOA, soa(r), r.minttl);
      break;
    }
    case 'CAA':
      for (const r of raw as CaaRecord[]) add(RECORD_TYPES.CAA, caa(r));
      break;
    case 'NAPTR':
      for (const r of raw as NaptrRecord[]) add(RECORD_TYPES.NAPTR, naptr(r));
      break;
    case 'ANY':
      for (const r of raw as AnyRecord[]) {
        const formatted = anyRecord(r);
        if (formatted !== undefined) add(formatted.type, formatted.data, formatted.ttl);
      }
      break;
  }
  let minTtl: number | undefined;
  for (const r of out)
    if (r.TTL !== undefined && (minTtl === undefined || r.TTL < minTtl)) minTtl = r.TTL;
  return { answers: out, minTtl };
}

function anyRecord(r: AnyRecord): { type: number; data: string; ttl?: number } | undefined {
  switch (r.type) {
    case 'A':
    case 'AAAA':
      return { type: RECORD_TYPES[r.type], data: r.address, ttl: r.ttl };
    case 'CNAME':
    case 'NS':
    case 'PTR':
      return { type: RECORD_TYPES[r.type], data: fqdn(r.value) };
    case 'MX':
      return { type: RECORD_TYPES.MX, data: mx(r) };
    case 'TXT':
      return { type: RECORD_TYPES.TXT, data: txt(r.entries) };
    case 'SRV':
      return { type: RECORD_TYPES.SRV, data: srv(r) };
    case 'SOA':
      return { type: RECORD_TYPES.SOA, data: soa(r), ttl: r.minttl };
    case 'NAPTR':
      return { type: RECORD_TYPES.NAPTR, data: naptr(r) };
    default: {
      // Node ≥ 22 also reports CAA in ANY answers; Node 20's types do not list it.
      const caaLike = r as { type: string } & Partial<CaaRecord>;
      if (caaLike.type === 'CAA')
        return { type: RECORD_TYPES.CAA, data: caa(caaLike as CaaRecord) };
      return undefined;
    }
  }
}

/** A name as it appears inside record data: fully qualified, with its trailing dot. */
function fqdn(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

const mx = (r: MxRecord) => `${r.priority} ${fqdn(r.exchange)}`;
const srv = (r: SrvRecord) => `${r.priority} ${r.weight} ${r.port} ${fqdn(r.name)}`;
const soa = (r: SoaRecord) =>
  `${fqdn(r.nsname)} ${fqdn(r.hostmaster)} ${r.serial} ${r.refresh} ${r.retry} ${r.expire} ${r.minttl}`;
const naptr = (r: NaptrRecord) =>
  `${r.order} ${r.preference} ${quote(r.flags)} ${quote(r.service)} ${quote(r.regexp)} ${r.replacement === '' ? '.' : fqdn(r.replacement)}`;

/** TXT data: each character-string quoted (RFC 1035 §5.1), several of one record separated by spaces. */
const txt = (chunks: string[]) => chunks.map(quote).join(' ');

/**
 * CAA data (RFC 8659 §4.1.1): flags, tag, quoted value. c-ares names the one
 * property after the record's tag; Node ≥ 22 adds `type: 'CAA'` to it, in
 * ANY answers and (Node 24) in resolveCaa's too, and puts it first.
 */
function caa(r: CaaRecord): string {
  const { critical, type: _type, ...rest } = r as CaaRecord & Record<string, unknown>;
  const [tag, value] = Object.entries(rest)[0] ?? ['', ''];
  return `${critical} ${tag} ${quote(String(value))}`;
}

function quote(text: string): string {
  return `"${text.replace(/["\\]/g, '\\$&')}"`;
}
