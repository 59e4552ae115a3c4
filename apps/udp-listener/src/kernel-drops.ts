import { readFile } from 'node:fs/promises';
import { endianness } from 'node:os';

/**
 * Datagrams the kernel dropped for one socket, mostly because its receive
 * buffer was full: the `drops` column of /proc/net/udp and /proc/net/udp6
 * (Linux only). They never reach the process, so no counter of ours can see
 * them; without this number a flood looks like datagrams that were never
 * sent. The socket is found by its local address and port, which only it
 * holds (the listener does not share its port: no SO_REUSEPORT).
 *
 * Returns undefined where there is no such file (not Linux) or no such line.
 */
export async function kernelDrops(
  bound: { address: string; port: number; family: string },
  procDir = '/proc/net',
): Promise<number | undefined> {
  const v6 = bound.family === 'IPv6';
  let text: string;
  try {
    text = await readFile(`${procDir}/${v6 ? 'udp6' : 'udp'}`, 'utf8');
  } catch {
    return undefined;
  }
  const want = `${procAddress(bound.address, v6)}:${bound.port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ref pointer drops
    if (fields[1] === want && fields.length >= 13) {
      const drops = Number(fields[12]);
      return Number.isSafeInteger(drops) ? drops : undefined;
    }
  }
  return undefined;
}

/**
 * An address as /proc/net/udp{,6} prints it: each 32-bit word in host byte
 * order as hex, so 127.0.0.1 is 0100007F on a little-endian machine.
 */
export function procAddress(address: string, v6: boolean): string {
  const bytes = v6 ? ipv6Bytes(address) : Uint8Array.from(address.split('.').map(Number));
  const little = endianness() === 'LE';
  let hex = '';
  for (let word = 0; word < bytes.length; word += 4) {
    const b = bytes.subarray(word, word + 4);
    const ordered = little ? [b[3], b[2], b[1], b[0]] : [b[0], b[1], b[2], b[3]];
    for (const x of ordered) hex += x!.toString(16).toUpperCase().padStart(2, '0');
  }
  return hex;
}

/** The 16 bytes of an IPv6 address (`::`, zones and a dotted IPv4 tail allowed). */
export function ipv6Bytes(address: string): Uint8Array {
  let text = address.replace(/%.*$/, '');
  const groups: number[] = [];
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (tail) {
    const [a, b, c, d] = tail.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  groups.push(...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right);
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}
