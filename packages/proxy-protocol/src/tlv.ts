import { malformed } from './errors.js';
import type { ProxyTlv } from './header.js';

// proxy-protocol.txt 2.2.x: the registered TLV types.
export const PP2_TYPE = {
  ALPN: 0x01,
  AUTHORITY: 0x02,
  CRC32C: 0x03,
  NOOP: 0x04,
  UNIQUE_ID: 0x05,
  SSL: 0x20,
  NETNS: 0x30,
  // 2.2.7 reserves 0xE0-0xEF for custom use; these three are the clouds' own.
  GCP: 0xe0,
  AWS: 0xea,
  AZURE: 0xee,
} as const;

const NAMES = new Map<number, string>(Object.entries(PP2_TYPE).map(([k, v]) => [v, k]));

const SSL_SUBTYPES = new Map<number, string>([
  [0x21, 'version'],
  [0x22, 'cn'],
  [0x23, 'cipher'],
  [0x24, 'sigAlg'],
  [0x25, 'keyAlg'],
  [0x26, 'group'],
  [0x27, 'sigScheme'],
]);

/** 2.2.5: bits of the SSL TLV's `client` byte. */
const PP2_CLIENT_SSL = 0x01;
const PP2_CLIENT_CERT_CONN = 0x02;
const PP2_CLIENT_CERT_SESS = 0x04;

export interface SslTlv {
  /** The client connected over TLS. */
  ssl: boolean;
  /** The client presented a certificate on this connection. */
  certInConnection: boolean;
  /** The client presented a certificate at least once in this TLS session. */
  certInSession: boolean;
  /** 2.2.5: 0 when the client certificate was presented and verified. */
  verify: number;
  certVerified: boolean;
  version?: string;
  cn?: string;
  cipher?: string;
  sigAlg?: string;
  keyAlg?: string;
  group?: string;
  sigScheme?: string;
  /** Sub-TLVs this parser does not know, raw. */
  other?: { type: number; hex: string }[];
}

/** Splits `buf` into TLVs; a TLV running past the end is malformed (2.2). */
export function splitTlvs(buf: Buffer, where: string): { type: number; value: Buffer }[] {
  const out: { type: number; value: Buffer }[] = [];
  let i = 0;
  while (i < buf.length) {
    if (i + 3 > buf.length) throw malformed(`${where}: TLV header cut at byte ${i}`);
    const type = buf[i] as number;
    const len = buf.readUInt16BE(i + 1);
    if (i + 3 + len > buf.length)
      throw malformed(`${where}: TLV 0x${hex2(type)} runs past the end`);
    out.push({ type, value: buf.subarray(i + 3, i + 3 + len) });
    i += 3 + len;
  }
  return out;
}

/** Names and decodes one TLV; the raw hex is always kept. */
export function decodeTlv(type: number, value: Buffer): ProxyTlv {
  const tlv: ProxyTlv = {
    type,
    name: NAMES.get(type) ?? `0x${hex2(type)}`,
    hex: value.toString('hex'),
  };
  const decoded = decodeValue(type, value);
  if (decoded !== undefined) tlv.value = decoded;
  return tlv;
}

function decodeValue(type: number, value: Buffer): unknown {
  switch (type) {
    case PP2_TYPE.ALPN:
    case PP2_TYPE.AUTHORITY:
    case PP2_TYPE.UNIQUE_ID:
    case PP2_TYPE.NETNS:
      if (type === PP2_TYPE.UNIQUE_ID && value.length > 128) {
        throw malformed('UNIQUE_ID TLV longer than 128 bytes'); // 2.2.5
      }
      // ALPN/AUTHORITY are UTF-8 (2.2.1, 2.2.2); UNIQUE_ID is opaque bytes, shown as text when printable.
      return printable(value) ? value.toString('utf8') : undefined;
    case PP2_TYPE.CRC32C:
      if (value.length !== 4) throw malformed('CRC32C TLV is not 4 bytes');
      return value.readUInt32BE(0);
    case PP2_TYPE.NOOP:
      return undefined;
    case PP2_TYPE.SSL:
      return decodeSsl(value);
    case PP2_TYPE.AWS:
      // AWS NLB: subtype 0x01 = VPC endpoint ID, an ASCII string.
      if (value[0] === 0x01 && printable(value.subarray(1))) {
        return { vpceId: value.toString('latin1', 1) };
      }
      return undefined;
    case PP2_TYPE.AZURE:
      // Azure Private Link: subtype 0x01 = LINKID, a 32-bit little-endian integer.
      if (value[0] === 0x01 && value.length === 5) return { linkId: value.readUInt32LE(1) };
      return undefined;
    case PP2_TYPE.GCP:
      // Google Private Service Connect: the PSC connection ID, 64 bits big-endian.
      if (value.length === 8) return { pscConnectionId: value.readBigUInt64BE(0).toString() };
      return undefined;
    default:
      return undefined;
  }
}

function decodeSsl(value: Buffer): SslTlv {
  if (value.length < 5) throw malformed('SSL TLV shorter than 5 bytes');
  const client = value[0] as number;
  const verify = value.readUInt32BE(1);
  const ssl: SslTlv = {
    ssl: (client & PP2_CLIENT_SSL) !== 0,
    certInConnection: (client & PP2_CLIENT_CERT_CONN) !== 0,
    certInSession: (client & PP2_CLIENT_CERT_SESS) !== 0,
    verify,
    certVerified: verify === 0 && (client & (PP2_CLIENT_CERT_CONN | PP2_CLIENT_CERT_SESS)) !== 0,
  };
  for (const sub of splitTlvs(value.subarray(5), 'SSL TLV')) {
    const key = SSL_SUBTYPES.get(sub.type) as keyof SslTlv | undefined;
    if (key !== undefined && printable(sub.value)) {
      (ssl as unknown as Record<string, string>)[key] = sub.value.toString('utf8');
    } else {
      ssl.other = [...(ssl.other ?? []), { type: sub.type, hex: sub.value.toString('hex') }];
    }
  }
  return ssl;
}

/** Text worth showing as text: valid UTF-8 with no control characters. */
function printable(value: Buffer): boolean {
  if (value.length === 0) return true;
  const text = value.toString('utf8');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what this refuses
  return !text.includes('\uFFFD') && !/[\u0000-\u001f\u007f]/.test(text);
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
