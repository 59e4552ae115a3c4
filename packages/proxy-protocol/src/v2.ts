import { crc32c } from './crc32c.js';
import { malformed, ProxyProtocolError } from './errors.js';
import type { ProxyEndpoint, ProxyHeader, ProxyTlv } from './header.js';
import { decodeTlv, PP2_TYPE, splitTlvs } from './tlv.js';

/** The 12-byte v2 signature (proxy-protocol.txt 2.2): no HTTP or TLS client ever starts so. */
export const V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);
/** Signature, version/command, family/transport, length. */
const FIXED = 16;

// 2.2: the address block's size per family, before any TLV.
const ADDRESS_BYTES = { 1: 12, 2: 36, 3: 216 } as Record<number, number>;

/**
 * Parses a v2 header from `buf`, which starts with the signature. Returns
 * null until the whole header (16 bytes + its length field) has arrived;
 * the length field caps that at 65 551 bytes.
 */
export function parseV2(buf: Buffer): ProxyHeader | null {
  if (buf.length < FIXED) {
    // Refuse a bad version/command byte as soon as it is here.
    if (buf.length > 12) verCmd(buf[12] as number);
    return null;
  }
  const command = verCmd(buf[12] as number);
  const famByte = buf[13] as number;
  const family = famByte >> 4;
  const transport = famByte & 0x0f;
  if (family > 0x3 || transport > 0x2)
    throw malformed(`v2 family/transport byte 0x${famByte.toString(16)}`);
  const length = FIXED + buf.readUInt16BE(14);
  if (buf.length < length) return null;
  const header = buf.subarray(0, length);
  const body = header.subarray(FIXED);

  const addressBytes = family === 0 ? 0 : (ADDRESS_BYTES[family] as number);
  if (body.length < addressBytes) {
    throw malformed(`v2 length ${body.length} shorter than the ${addressBytes}-byte address block`);
  }
  const raw = splitTlvs(body.subarray(addressBytes), 'v2');
  const tlvs: ProxyTlv[] = raw.map(({ type, value }) => decodeTlv(type, value));
  checkCrc(header, raw);

  let protocol = 'UNSPEC';
  let source: ProxyEndpoint | null = null;
  let destination: ProxyEndpoint | null = null;
  if (family !== 0 && transport !== 0) {
    const stream = transport === 0x1;
    if (family === 0x1) {
      protocol = stream ? 'TCP4' : 'UDP4';
      source = { address: ipv4(body, 0), port: body.readUInt16BE(8) };
      destination = { address: ipv4(body, 4), port: body.readUInt16BE(10) };
    } else if (family === 0x2) {
      protocol = stream ? 'TCP6' : 'UDP6';
      source = { address: ipv6(body, 0), port: body.readUInt16BE(32) };
      destination = { address: ipv6(body, 16), port: body.readUInt16BE(34) };
    } else {
      protocol = stream ? 'UNIX_STREAM' : 'UNIX_DGRAM';
      source = { address: unixPath(body.subarray(0, 108)), port: null };
      destination = { address: unixPath(body.subarray(108, 216)), port: null };
    }
  }
  // 2.2: LOCAL is the balancer's own connection (a health check): the
  // receiver must ignore the address block and use the real endpoints.
  if (command === 'LOCAL') {
    source = null;
    destination = null;
  }
  return { version: 2, command, protocol, source, destination, tlvs, length };
}

function verCmd(byte: number): 'PROXY' | 'LOCAL' {
  if (byte >> 4 !== 0x2) throw malformed(`v2 version ${byte >> 4}`);
  const cmd = byte & 0x0f;
  if (cmd === 0x0) return 'LOCAL';
  if (cmd === 0x1) return 'PROXY';
  throw malformed(`v2 command ${cmd}`);
}

/** 2.2.3: the CRC32C of the whole header with the checksum field zeroed. */
function checkCrc(header: Buffer, raw: { type: number; value: Buffer }[]): void {
  const crcs = raw.filter((t) => t.type === PP2_TYPE.CRC32C);
  if (crcs.length === 0) return;
  if (crcs.length > 1) throw malformed('v2 header with two CRC32C TLVs');
  const crc = crcs[0] as { value: Buffer };
  const copy = Buffer.from(header);
  const at = crc.value.byteOffset - header.byteOffset;
  copy.fill(0, at, at + 4);
  const expected = crc.value.readUInt32BE(0);
  const actual = crc32c(copy);
  if (actual !== expected) {
    throw new ProxyProtocolError(
      'NETLAB_ERR_PROXY_CRC',
      `v2 CRC32C 0x${expected.toString(16)} does not match the header (0x${actual.toString(16)})`,
    );
  }
}

function ipv4(b: Buffer, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** The shortest form (RFC 5952), as Node prints a peer: built by the URL parser. */
function ipv6(b: Buffer, at: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(at + i).toString(16));
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

/** 2.2: a UNIX path is NUL-padded to 108 bytes; non-printable bytes are escaped for logs. */
function unixPath(b: Buffer): string {
  const nul = b.indexOf(0);
  const bytes = nul === -1 ? b : b.subarray(0, nul);
  let out = '';
  for (const c of bytes)
    out +=
      c >= 0x20 && c < 0x7f && c !== 0x5c
        ? String.fromCharCode(c)
        : `\\x${c.toString(16).padStart(2, '0')}`;
  return out;
}
