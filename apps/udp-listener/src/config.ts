import { type ConfigOf, commonVars, int, oneOf, string, type VarSpec } from '@netlab/common';
import { isMulticast } from './addresses.js';
import { DEFAULT_DENIED_SOURCE_PORTS } from './loop-guard.js';

export const REPLY_MODES = ['echo', 'ack', 'none'] as const;
export type ReplyMode = (typeof REPLY_MODES)[number];

const MAX_GROUPS = 20;

/** A comma-separated list of multicast groups; an empty variable is no group. */
function multicastGroups(doc: string): VarSpec<readonly string[]> {
  return {
    kind: `comma-separated multicast addresses (at most ${MAX_GROUPS})`,
    default: Object.freeze([]),
    doc,
    defaultText: '',
    parse(raw) {
      const groups = raw
        .split(',')
        .map((g) => g.trim())
        .filter((g) => g !== '');
      const bad = groups.filter((g) => !isMulticast(g));
      if (bad.length > 0) {
        return {
          error: `expected multicast addresses (224.0.0.0/4 or ff00::/8), got "${bad.join(',')}"`,
        };
      }
      if (groups.length > MAX_GROUPS) {
        return { error: `expected at most ${MAX_GROUPS} groups, got ${groups.length}` };
      }
      return { value: Object.freeze([...new Set(groups)]) };
    },
  };
}

const MAX_DENIED_PORTS = 1000;

/** A comma-separated list of ports, `default` standing for the default list; `none` is no port at all. */
function portList(defaults: readonly number[], doc: string): VarSpec<readonly number[]> {
  return {
    kind: `comma-separated ports 1-65535 or default (at most ${MAX_DENIED_PORTS}), or none`,
    default: defaults,
    doc,
    defaultText: defaults.join(','),
    parse(raw) {
      if (raw.trim().toLowerCase() === 'none') return { value: Object.freeze([]) };
      const parts = raw
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p !== '');
      const isDefault = (p: string) => p.toLowerCase() === 'default';
      const bad = parts.filter(
        (p) => !isDefault(p) && (!/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535),
      );
      if (bad.length > 0) return { error: `expected ports 1-65535, got "${bad.join(',')}"` };
      const ports = [...new Set(parts.flatMap((p) => (isDefault(p) ? defaults : [Number(p)])))];
      if (ports.length > MAX_DENIED_PORTS) {
        return { error: `expected at most ${MAX_DENIED_PORTS} ports, got ${ports.length}` };
      }
      return { value: Object.freeze(ports) };
    },
  };
}

/** Every variable udp-listener reads; the README table is generated from this. */
export const schema = {
  ...commonVars({ port: 41234, adminPort: 9003 }),
  UDP_REPLY: oneOf(
    REPLY_MODES,
    'echo',
    'echo: the same bytes back to the sender (RFC 862); ack: one text line with the size and the sender as seen here, so a NAT shows up; none: listen only.',
  ),
  UDP_REPLY_RATE_PER_SEC: int({
    default: 100,
    min: 1,
    max: 1_000_000,
    doc: 'Replies per second to one source address at most (token bucket), so spoofed senders cannot aim us at a victim; datagrams over it are counted, not answered.',
  }),
  UDP_REPLY_BURST: int({
    default: 100,
    min: 1,
    max: 1_000_000,
    doc: 'Replies one source address may get back to back before UDP_REPLY_RATE_PER_SEC applies (the bucket size).',
  }),
  UDP_REPLY_QUEUE_MAX: int({
    default: 1024,
    min: 1,
    max: 1_000_000,
    doc: 'Replies waiting for the kernel to take them, at most; past it a datagram is counted, not answered.',
  }),
  UDP_DENIED_SOURCE_PORTS: portList(
    DEFAULT_DENIED_SOURCE_PORTS,
    'Source ports never answered: services that answer anything (echo, chargen, daytime, time, QOTD, DNS, NTP, TFTP, SNMP, NetBIOS, SSDP, mDNS, memcached…), so a datagram forged from one cannot start a reply loop with them (CVE-2024-2169). default stands for this list (default,41234 adds a port); none: answer every port. Our own address and port are never answered either way.',
  ),
  UDP_RECV_BUFFER_BYTES: int({
    default: 4 * 1024 * 1024,
    min: 65_536,
    max: 1024 * 1024 * 1024,
    doc: 'Kernel receive buffer asked for (SO_RCVBUF): room for bursts while the event loop is busy. Linux caps it at net.core.rmem_max; the size granted is logged at start (a warning when smaller) and shown in /stats.',
  }),
  UDP_HISTORY_SIZE: int({
    default: 100,
    min: 0,
    max: 10_000,
    doc: 'Most recent datagrams kept for GET /datagrams on the admin port (0: none).',
  }),
  UDP_PREVIEW_BYTES: int({
    default: 64,
    min: 0,
    max: 1024,
    doc: 'Bytes of each datagram kept as its preview (text when printable, else hex) in the debug log and /datagrams.',
  }),
  UDP_MAX_SENDERS: int({
    default: 1000,
    min: 1,
    max: 100_000,
    doc: 'Source addresses tracked for GET /stats and the reply rate limit; one more forgets the least recently seen (counted).',
  }),
  UDP_STATS_SENDERS: int({
    default: 100,
    min: 0,
    max: 100_000,
    doc: 'Senders GET /stats lists at most, those that sent the most datagrams first (the totals count them all), so its size stays bounded.',
  }),
  UDP_MULTICAST_GROUPS: multicastGroups(
    'Multicast groups to join at start and leave at stop, e.g. 239.1.2.3,ff15::1234.',
  ),
  UDP_MULTICAST_INTERFACE: string({
    default: undefined,
    maxLength: 255,
    doc: 'Local address of the interface to join the groups on. Unset: the kernel picks one by route.',
  }),
};

export type ListenerConfig = ConfigOf<typeof schema>;
