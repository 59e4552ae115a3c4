import { isIP } from 'node:net';

/**
 * The PTR name for an address: `4.3.2.1.in-addr.arpa` for 1.2.3.4
 * (RFC 1035 §3.5), 32 reversed nibbles under `ip6.arpa` for IPv6
 * (RFC 3596 §2.5). Undefined when `ip` is not an address (a zone id like
 * `fe80::1%eth0` included: it names an interface, not an address).
 */
export function reverseName(ip: string): string | undefined {
  const family = isIP(ip);
  if (family === 4) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  if (family !== 6 || ip.includes('%')) return undefined;
  return `${[...expandIPv6(ip)].reverse().join('.')}.ip6.arpa`;
}

/** The 32 hex digits of an IPv6 address (already checked by isIP), in order. */
function expandIPv6(ip: string): string {
  let text = ip.toLowerCase();
  // An embedded IPv4 tail (::ffff:1.2.3.4) is the last two groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a, b, c, d] = tail.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = rest === undefined || rest === '' ? [] : rest.split(':');
  const zeros = rest === undefined ? [] : Array(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => g.padStart(4, '0')).join('');
}
