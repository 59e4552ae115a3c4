import { isIPv4, isIPv6 } from 'node:net';
import { malformed, ProxyProtocolError } from './errors.js';
import type { ProxyHeader } from './header.js';

/** "PROXY " — how every v1 header starts (proxy-protocol.txt 2.1). */
export const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** The longest v1 line, CRLF included (2.1: "107 bytes"). */
export const V1_MAX_LENGTH = 107;

// 2.1: a port is a decimal in 0..65535; a leading zero would let two
// spellings name one port, so, as HAProxy does, it is refused.
const PORT = /^(?:0|[1-9][0-9]{0,4})$/;

/**
 * Parses a v1 header from `buf`, which starts with "PROXY ". Returns null
 * while the CRLF has not arrived yet (and the line is still short enough).
 */
export function parseV1(buf: Buffer): ProxyHeader | null {
  const end = buf.indexOf('\r\n', 0, 'latin1');
  // Only printable US-ASCII may appear in the line (2.1): a stray byte (a
  // bare LF, a NUL) is refused at once, not after waiting for a CRLF, and can
  // never reach a log line or a /whoami answer.
  const scan = end === -1 ? Math.min(buf.length, V1_MAX_LENGTH) : end;
  for (let i = 0; i < scan; i++) {
    const c = buf[i] as number;
    if ((c < 0x20 || c > 0x7e) && !(c === 0x0d && i === buf.length - 1)) {
      throw malformed(`v1 line has byte 0x${c.toString(16).padStart(2, '0')} at ${i}`);
    }
  }
  if (end === -1 ? buf.length >= V1_MAX_LENGTH : end + 2 > V1_MAX_LENGTH) {
    throw new ProxyProtocolError(
      'NETLAB_ERR_PROXY_TOO_LONG',
      `v1 line longer than ${V1_MAX_LENGTH} bytes`,
    );
  }
  if (end === -1) return null;
  const length = end + 2;
  const fields = buf.toString('latin1', V1_PREFIX.length, end).split(' ');
  const protocol = fields[0] ?? '';
  if (protocol === 'UNKNOWN') {
    // 2.1: with UNKNOWN the receiver ignores the rest of the line and uses the real peer.
    return {
      version: 1,
      command: 'PROXY',
      protocol,
      source: null,
      destination: null,
      tlvs: [],
      length,
    };
  }
  if (protocol !== 'TCP4' && protocol !== 'TCP6') throw malformed(`v1 protocol "${protocol}"`);
  if (fields.length !== 5)
    throw malformed(`v1 ${protocol} needs 4 fields, got ${fields.length - 1}`);
  const [, src, dst, sport, dport] = fields as [string, string, string, string, string];
  const isFamily = protocol === 'TCP4' ? isIPv4 : isIPv6;
  if (!isFamily(src) || !isFamily(dst))
    throw malformed(`v1 ${protocol} address not of that family`);
  if (protocol === 'TCP6' && (src.includes('%') || dst.includes('%'))) {
    throw malformed('v1 TCP6 address with a zone id');
  }
  return {
    version: 1,
    command: 'PROXY',
    protocol,
    source: { address: src, port: port(sport) },
    destination: { address: dst, port: port(dport) },
    tlvs: [],
    length,
  };
}

function port(text: string): number {
  const n = PORT.test(text) ? Number(text) : Number.NaN;
  if (!(n <= 65535)) throw malformed(`v1 port "${text}"`);
  return n;
}
