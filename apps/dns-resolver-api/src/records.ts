import type { Answer, DecodedPacket } from 'dns-packet';
import { RECORD_TYPES, type RecordType } from './record-type.js';
import { canonical } from './wire.js';

/** A resource record (OPT is a pseudo-record of EDNS, never an answer). */
type PacketRecord = Exclude<Answer, { type: 'OPT' }>;
const isRecord = (r: Answer): r is PacketRecord => r.type !== 'OPT';
const MAX_CHAIN = 16;

/**
 * One answer record in dns-json's shape (Cloudflare's `application/dns-json`,
 * Google's `/resolve`): the owner name, the type number, the TTL the server
 * gave, and `data` in zone-file presentation format (names fully qualified,
 * with their trailing dot), as `dig` prints it.
 */
export interface AnswerRecord {
  name: string;
  type: number;
  TTL: number;
  data: string;
}

/**
 * The answer section of one response, as the client gets it, and how long
 * it may be cached:
 * - `answers`: the CNAME chain from the name asked (type 5 records, in
 *   order), then the records of its end (RFC 1034 §3.6.2), each under its
 *   own name and with its own TTL;
 * - `positive`: the end of the chain has records of the type asked;
 * - `minTtl`: the smallest TTL of those records (RFC 2181 §5.2: an answer
 *   expires as a whole), undefined when there are none;
 * - `negativeTtl`: for NXDOMAIN and NODATA, RFC 2308 §5: the smaller of the
 *   SOA record's TTL and its MINIMUM field, from the authority section;
 *   undefined without an SOA (then the answer is not cached at all).
 */
export interface Records {
  answers: AnswerRecord[];
  positive: boolean;
  minTtl: number | undefined;
  negativeTtl: number | undefined;
}

/**
 * Reads the records of `packet` that answer (`name`, `type`): the chain of
 * CNAMEs from `name`, then the records of the last name of type `type`
 * (every type for ANY). Records of other names (what a server adds, or
 * forges) are left out.
 */
export function fromPacket(name: string, type: RecordType, packet: DecodedPacket): Records {
  const all = (packet.answers ?? [])
    .filter(isRecord)
    .filter((r) => r.class === undefined || r.class === 'IN');
  const chain: PacketRecord[] = [];
  const seen = new Set<string>();
  let owner = canonical(name);
  // Follow the chain, whatever order the server put the records in; a loop
  // ends it, and so does a chain longer than any resolver follows (BIND stops at 16).
  while (chain.length < MAX_CHAIN) {
    if (type === 'CNAME' || type === 'ANY') break;
    seen.add(owner);
    const alias = all.find((r) => r.type === 'CNAME' && canonical(r.name) === owner);
    if (alias === undefined) break;
    chain.push(alias);
    const target = canonical(alias.data as string);
    if (seen.has(target)) break;
    owner = target;
  }
  const end = all.filter((r) => canonical(r.name) === owner && (type === 'ANY' || r.type === type));
  const answers: AnswerRecord[] = [];
  let minTtl: number | undefined;
  for (const r of [...chain, ...end]) {
    const ttl = wireTtl(r.ttl);
    if (minTtl === undefined || ttl < minTtl) minTtl = ttl;
    const formatted = format(r);
    if (formatted !== undefined) answers.push(formatted);
  }
  let negativeTtl: number | undefined;
  for (const r of packet.authorities ?? []) {
    if (r.type !== 'SOA' || !isRecord(r)) continue;
    const ttl = Math.min(wireTtl(r.ttl), wireTtl(r.data.minimum));
    if (negativeTtl === undefined || ttl < negativeTtl) negativeTtl = ttl;
  }
  return { answers, positive: end.length > 0, minTtl, negativeTtl };
}

/** A record in dns-json's shape; undefined for a type this API does not know (in ANY answers). */
function format(r: PacketRecord): AnswerRecord | undefined {
  if (!Object.hasOwn(RECORD_TYPES, r.type)) return undefined;
  const data = presentation(r);
  if (data === undefined) return undefined;
  return {
    name: ownerName(r.name),
    type: RECORD_TYPES[r.type as RecordType],
    TTL: wireTtl(r.ttl),
    data,
  };
}

/**
 * A TTL as read off the wire: 32 bits, of which RFC 2181 §8 allows 31; one
 * with the top bit set is treated as 0, as the RFC says (a server sending
 * 4294967295 means "cache it for ever" to nobody). The SOA's MINIMUM too.
 */
export function wireTtl(ttl: number | undefined): number {
  return ttl === undefined || ttl > 0x7fffffff ? 0 : ttl;
}

/** dns-packet decodes the root as `.`; every other name without its trailing dot, as asked. */
function ownerName(name: string): string {
  return name === '' ? '.' : name;
}

function presentation(r: PacketRecord): string | undefined {
  switch (r.type) {
    case 'A':
    case 'AAAA':
      return r.data;
    case 'CNAME':
    case 'NS':
    case 'PTR':
      return fqdn(r.data);
    case 'MX':
      return `${r.data.preference ?? 0} ${fqdn(r.data.exchange)}`;
    case 'TXT': {
      const chunks = Array.isArray(r.data) ? r.data : [r.data];
      return chunks
        .map((c) => characterString(typeof c === 'string' ? Buffer.from(c) : c))
        .join(' ');
    }
    case 'SRV':
      return `${r.data.priority ?? 0} ${r.data.weight ?? 0} ${r.data.port ?? 0} ${fqdn(r.data.target)}`;
    case 'SOA': {
      const s = r.data;
      return `${fqdn(s.mname)} ${fqdn(s.rname)} ${s.serial} ${s.refresh} ${s.retry} ${s.expire} ${s.minimum}`;
    }
    case 'CAA':
      // RFC 8659 §4.1.1: flags, tag, the value as a quoted string.
      return `${r.data.flags ?? 0} ${r.data.tag} ${characterString(Buffer.from(r.data.value))}`;
    case 'NAPTR': {
      const n = r.data;
      return `${n.order} ${n.preference} ${quote(n.flags)} ${quote(n.services)} ${quote(n.regexp)} ${fqdn(n.replacement)}`;
    }
    default:
      return undefined;
  }
}

/** A name inside record data: fully qualified, with its trailing dot (the root is `.`). */
function fqdn(name: string): string {
  if (name === '' || name === '.') return '.';
  return name.endsWith('.') ? name : `${name}.`;
}

const quote = (text: string) => characterString(Buffer.from(text));

/**
 * A <character-string> as dig prints it (RFC 1035 §5.1): quoted, `"` and `\`
 * escaped, bytes outside printable ASCII as `\DDD`.
 */
function characterString(bytes: Buffer): string {
  let out = '"';
  for (const b of bytes) {
    if (b === 0x22 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\${String(b).padStart(3, '0')}`;
  }
  return `${out}"`;
}
