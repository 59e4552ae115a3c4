const MAPPED_IPV4 = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

/**
 * A peer address as netlab logs and reports it: an IPv4 client of a
 * dual-stack (`::`) listener is `127.0.0.1`, not the IPv4-mapped IPv6 form
 * `::ffff:127.0.0.1` (RFC 4291 §2.5.5.2) that Node gives for it. Every other
 * address, and `undefined` (a socket already gone), is returned as is.
 * Cheap enough for a per-datagram path: anything that cannot be a mapped
 * address (too long, or not starting with `:`) skips the regular expression.
 */
export function peerAddress(address: string): string;
export function peerAddress(address: string | undefined): string | undefined;
export function peerAddress(address: string | undefined): string | undefined {
  if (address === undefined || address.length > 22 || address.charCodeAt(0) !== 58) {
    return address;
  }
  return MAPPED_IPV4.exec(address)?.[1] ?? address;
}
