import { networkInterfaces } from 'node:os';

/**
 * Source ports of the UDP services that answer whatever arrives, so that one
 * datagram forged between two of them (or between one of them and us)
 * bounces for ever: the application-layer loop of CVE-2024-2169 (CERT/CC
 * VU#417980, "Loop DoS", Pan, Ascheman and Rossow, 2024: TFTP, DNS, NTP
 * and the legacy Echo, Chargen, QOTD, Daytime, Time and Active Users), plus
 * the services the reflection/amplification advisories list (CISA's UDP-based
 * amplification alert TA14-017A: SNMP, NetBIOS, SSDP, portmap, CLDAP,
 * mDNS, memcached, WS-Discovery, CoAP, SLP). A datagram from one of these
 * ports is either a forgery aimed at starting a loop or a reply we never
 * asked for: it is counted, never answered.
 */
export const DEFAULT_DENIED_SOURCE_PORTS: readonly number[] = Object.freeze([
  7, // echo (RFC 862)
  9, // discard (RFC 863)
  11, // systat, Active Users (RFC 866)
  13, // daytime (RFC 867)
  17, // QOTD (RFC 865)
  19, // chargen (RFC 864)
  37, // time (RFC 868)
  53, // DNS
  69, // TFTP
  111, // portmap / rpcbind
  123, // NTP
  137, // NetBIOS name service
  138, // NetBIOS datagram service
  161, // SNMP
  162, // SNMP trap
  389, // CLDAP
  427, // SLP (CVE-2023-29552)
  1900, // SSDP
  3702, // WS-Discovery
  5353, // mDNS
  5683, // CoAP
  11211, // memcached
]);

/** The addresses of this machine, as a datagram's (unmapped) source shows them. */
export function localAddresses(): Set<string> {
  const set = new Set<string>(['::1']);
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) {
      // A link-local address arrives without its zone (fe80::1, not fe80::1%eth0).
      set.add(info.address.replace(/%.*$/, ''));
    }
  }
  return set;
}

/** Every address of 127.0.0.0/8 is this machine's loopback (RFC 1122 §3.2.1.3). */
const isLoopbackV4 = (address: string) => address.startsWith('127.');

export interface SelfCheck {
  /** Whether a datagram from `address`:`port` is one this very socket could have sent. */
  isSelf(address: string, port: number): boolean;
}

/**
 * Our own address and port, so that a datagram forged as coming from
 * ourselves is never answered (else the reply is our next datagram, and so
 * on: a loop of one). Bound to one address, that is the address; bound to
 * `::` or `0.0.0.0`, every address of the machine is ours. The machine's
 * addresses are read again at most every `refreshMs` (an interface may come
 * up after start), and only for datagrams from our own port, so the common
 * path costs one comparison.
 */
export function selfCheck(
  bound: { address: string; port: number },
  opts: { refreshMs: number; now: () => number },
): SelfCheck {
  const wildcard = bound.address === '::' || bound.address === '0.0.0.0';
  const boundAddress = bound.address.replace(/^::ffff:/i, '');
  let locals: Set<string> | undefined;
  let readAt = 0;
  return {
    isSelf(address, port) {
      if (port !== bound.port) return false;
      if (!wildcard) return address === boundAddress;
      if (isLoopbackV4(address)) return true;
      const now = opts.now();
      if (locals === undefined || now - readAt >= opts.refreshMs) {
        locals = localAddresses();
        readAt = now;
      }
      return locals.has(address);
    },
  };
}
