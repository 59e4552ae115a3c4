/**
 * A dual-stack socket (bound to `::`) sees IPv4 peers as IPv4-mapped IPv6
 * addresses (`::ffff:127.0.0.1`, RFC 4291 §2.5.5.2). They are IPv4 peers on
 * the wire, and that is what a person checking a proxy or a NAT wants to
 * read: `127.0.0.1`. Every other address comes back as it was. Cheap enough
 * for a per-datagram path (no regular expression).
 */
export function unmapIPv4(address: string): string {
  return address.length <= 22 && address.startsWith('::ffff:') && address.includes('.', 7)
    ? address.slice(7)
    : address;
}
