import { crc32c } from '../src/crc32c.js';
import { V2_SIGNATURE } from '../src/v2.js';

/** A TLV on the wire: type, 16-bit length, value. */
export function tlv(type: number, value: Buffer | string): Buffer {
  const v = typeof value === 'string' ? Buffer.from(value) : value;
  const head = Buffer.alloc(3);
  head[0] = type;
  head.writeUInt16BE(v.length, 1);
  return Buffer.concat([head, v]);
}

/** A v2 header: version/command byte, family/transport byte, address block, TLVs. */
export function v2(
  verCmd: number,
  famTransport: number,
  address: Buffer,
  ...tlvs: Buffer[]
): Buffer {
  const body = Buffer.concat([address, ...tlvs]);
  const head = Buffer.alloc(4);
  head[0] = verCmd;
  head[1] = famTransport;
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([V2_SIGNATURE, head, body]);
}

/** An IPv4 address block: src, dst, sport, dport. */
export function inet(src: number[], dst: number[], sport: number, dport: number): Buffer {
  const b = Buffer.alloc(12);
  Buffer.from(src).copy(b, 0);
  Buffer.from(dst).copy(b, 4);
  b.writeUInt16BE(sport, 8);
  b.writeUInt16BE(dport, 10);
  return b;
}

/** Appends a CRC32C TLV computed the way the specification says (2.2.3). */
export function withCrc(verCmd: number, fam: number, address: Buffer, ...tlvs: Buffer[]): Buffer {
  const header = v2(verCmd, fam, address, ...tlvs, tlv(0x03, Buffer.alloc(4)));
  header.writeUInt32BE(crc32c(header), header.length - 4);
  return header;
}
