import { isIPv4, isIPv6 } from 'node:net';

/** 224.0.0.0/4 (RFC 5771) or ff00::/8 (RFC 4291 §2.7). */
export function isMulticast(address: string): boolean {
  if (isIPv4(address)) {
    const first = Number(address.slice(0, address.indexOf('.')));
    return first >= 224 && first <= 239;
  }
  return isIPv6(address) && /^ff/i.test(address);
}

/**
 * Whether a datagram's source may be answered. No real sender has a
 * multicast, broadcast or unspecified source address or port 0 (RFC 1122
 * §3.2.1.3, RFC 768); a datagram that claims one is forged, and a reply
 * would go to a whole group of hosts, or nowhere. `address` is as a peer
 * arrives from the socket (IPv4 already unmapped), so this stays cheap
 * enough for every reply.
 */
export function isAnswerable(address: string, port: number): boolean {
  if (port === 0) return false;
  if (address.includes(':')) return address !== '::' && !/^ff/i.test(address);
  const first = Number(address.slice(0, address.indexOf('.')));
  // 0/8 is "this network"; 224/4 multicast; 240/4 reserved, 255.255.255.255 with it.
  return first !== 0 && first < 224;
}
