import dgram from 'node:dgram';
import { once } from 'node:events';
import dnsPacket, { type Answer, type Packet } from 'dns-packet';

/**
 * A DNS server for tests: `dns-packet` over a real UDP socket on 127.0.0.1
 * (or `host`), port 0. It answers a small fixed zone under `netlab.test` with one record
 * set of every type the API supports, and these special names:
 *
 * - `nxdomain.netlab.test` and every name it does not know: NXDOMAIN (3);
 * - `nodata.netlab.test`: exists (it has an A record), so other types get
 *   NOERROR with no records (NODATA);
 * - `servfail.netlab.test`: SERVFAIL (2); `refused.netlab.test`: REFUSED (5);
 * - `silent.netlab.test`: never answered (the client times out).
 *
 * It counts every query it receives, so tests can see what reached it.
 */
export interface FixtureDns {
  port: number;
  /** `127.0.0.1:port` (`[::1]:port`), as DNS_SERVERS takes it. */
  server: string;
  /** Every question received, in order, as `TYPE name` (name lower-cased). */
  readonly queries: string[];
  /** How many times `TYPE name` was asked. */
  count(type: string, name: string): number;
  /** Holds every answer until release() (coalescing tests: the query stays in flight). */
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

type Records = Answer[];

const ZONE_SOA: Answer = {
  name: 'netlab.test',
  type: 'SOA',
  ttl: 3600,
  data: {
    mname: 'ns1.netlab.test',
    rname: 'hostmaster.netlab.test',
    serial: 2026112501,
    refresh: 7200,
    retry: 900,
    expire: 1209600,
    minimum: 300,
  },
};

/** The zone: name → its records (every type together; the server picks by type). */
export const ZONE: Record<string, Records> = {
  'netlab.test': [
    ZONE_SOA,
    { name: 'netlab.test', type: 'NS', ttl: 3600, data: 'ns1.netlab.test' },
  ],
  'example.netlab.test': [
    { name: 'example.netlab.test', type: 'A', ttl: 300, data: '192.0.2.10' },
    { name: 'example.netlab.test', type: 'A', ttl: 120, data: '192.0.2.11' },
    { name: 'example.netlab.test', type: 'AAAA', ttl: 300, data: '2001:db8::10' },
    {
      name: 'example.netlab.test',
      type: 'MX',
      ttl: 300,
      data: { preference: 10, exchange: 'mail.netlab.test' },
    },
    { name: 'example.netlab.test', type: 'TXT', ttl: 300, data: ['v=spf1 -all'] },
    { name: 'example.netlab.test', type: 'TXT', ttl: 300, data: ['say "hi"', 'two strings'] },
    {
      name: 'example.netlab.test',
      type: 'CAA',
      ttl: 300,
      data: { flags: 0, tag: 'issue', value: 'letsencrypt.org' },
    },
  ],
  'www.netlab.test': [
    { name: 'www.netlab.test', type: 'CNAME', ttl: 300, data: 'example.netlab.test' },
  ],
  '_sip._udp.netlab.test': [
    {
      name: '_sip._udp.netlab.test',
      type: 'SRV',
      ttl: 300,
      data: { priority: 10, weight: 5, port: 5060, target: 'sip.netlab.test' },
    },
  ],
  'sip.netlab.test': [
    {
      name: 'sip.netlab.test',
      type: 'NAPTR',
      ttl: 300,
      data: {
        order: 100,
        preference: 10,
        flags: 'S',
        services: 'SIP+D2U',
        regexp: '',
        replacement: '_sip._udp.netlab.test',
      },
    },
  ],
  '10.2.0.192.in-addr.arpa': [
    { name: '10.2.0.192.in-addr.arpa', type: 'PTR', ttl: 300, data: 'example.netlab.test' },
  ],
  [`${[...'20010db8000000000000000000000010'].reverse().join('.')}.ip6.arpa`]: [
    {
      name: `${[...'20010db8000000000000000000000010'].reverse().join('.')}.ip6.arpa`,
      type: 'PTR',
      ttl: 300,
      data: 'example.netlab.test',
    },
  ],
  'xn--bcher-kva.netlab.test': [
    { name: 'xn--bcher-kva.netlab.test', type: 'A', ttl: 300, data: '192.0.2.20' },
  ],
  'nodata.netlab.test': [{ name: 'nodata.netlab.test', type: 'A', ttl: 300, data: '192.0.2.30' }],
};

const RCODE_BY_NAME: Record<string, number> = {
  'servfail.netlab.test': 2,
  'refused.netlab.test': 5,
};

// Header flags (RFC 1035 §4.1.1): dns-packet's encode ignores `rcode`, so
// the RCODE goes into the low 4 bits of `flags` with AA, RD and RA.
const AA = 0x0400;
const RD = 0x0100;
const RA = 0x0080;

export async function startFixtureDns(host = '127.0.0.1'): Promise<FixtureDns> {
  const v6 = host.includes(':');
  const socket = dgram.createSocket(v6 ? 'udp6' : 'udp4');
  const queries: string[] = [];
  let held: Array<() => void> | undefined;

  socket.on('message', (msg, rinfo) => {
    let query: Packet;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return;
    }
    const q = query.questions?.[0];
    if (!q) return;
    const name = q.name.toLowerCase();
    queries.push(`${q.type} ${name}`);
    if (name === 'silent.netlab.test') return;
    const reply = () => {
      const { rcode, answers, authorities } = answer(name, q.type);
      const out = dnsPacket.encode({
        id: query.id,
        type: 'response',
        flags: AA | ((query.flags ?? 0) & RD) | RA | rcode,
        questions: query.questions,
        answers,
        authorities,
      });
      socket.send(out, rinfo.port, rinfo.address);
    };
    if (held) held.push(reply);
    else reply();
  });

  socket.bind(0, host);
  await once(socket, 'listening');
  const port = socket.address().port;
  return {
    port,
    server: v6 ? `[${host}]:${port}` : `${host}:${port}`,
    queries,
    count: (type, name) => queries.filter((q) => q === `${type} ${name}`).length,
    hold: () => {
      held = [];
    },
    release: () => {
      const pending = held ?? [];
      held = undefined;
      for (const reply of pending) reply();
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

function answer(
  name: string,
  type: string,
): { rcode: number; answers: Records; authorities: Records } {
  const rcode = RCODE_BY_NAME[name];
  if (rcode !== undefined) return { rcode, answers: [], authorities: [] };
  const records = ZONE[name];
  // Negative answers carry the zone's SOA, as RFC 2308 §3 asks.
  if (records === undefined) return { rcode: 3, answers: [], authorities: [ZONE_SOA] };
  let answers = type === 'ANY' ? records : records.filter((r) => r.type === type);
  // A CNAME answers every type: the alias, then the target's records (RFC 1034 §3.6.2).
  const alias = records.find((r) => r.type === 'CNAME') as (Answer & { data: string }) | undefined;
  if (answers.length === 0 && alias !== undefined) {
    const target = ZONE[alias.data] ?? [];
    answers = [alias, ...target.filter((r) => r.type === type)];
  }
  return { rcode: 0, answers, authorities: answers.length === 0 ? [ZONE_SOA] : [] };
}

/** A UDP socket that receives queries and never answers: the server that is down but not refusing. */
export async function startSilentDns(): Promise<{
  server: string;
  received: () => number;
  close(): Promise<void>;
}> {
  const socket = dgram.createSocket('udp4');
  let received = 0;
  socket.on('message', () => {
    received++;
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return {
    server: `127.0.0.1:${socket.address().port}`,
    received: () => received,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
