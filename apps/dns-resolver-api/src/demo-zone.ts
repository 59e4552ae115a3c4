import type { Answer } from 'dns-packet';

/**
 * The demo zone: a small zone under `netlab.test` (RFC 6761 §6.2: `.test`
 * is never delegated, so answering it here shadows no real name) with one
 * record set of every type the API supports, so that every example in the
 * README works on a laptop with no DNS server of its own (DNS_DEMO_ZONE).
 * The tests' fixture DNS server serves the same zone over UDP.
 *
 * - every name it does not hold: NXDOMAIN (3), with the zone's SOA;
 * - `nodata.netlab.test`: exists (an A record), so other types get NODATA;
 * - `servfail.netlab.test`: SERVFAIL (2); `refused.netlab.test`: REFUSED (5);
 * - `www.netlab.test`: a CNAME to `example.netlab.test`.
 */
type Records = Answer[];

export const ZONE_SOA: Answer = {
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

export const RCODE_BY_NAME: Record<string, number> = {
  'servfail.netlab.test': 2,
  'refused.netlab.test': 5,
};

/** Whether `name` (checked, lower case) belongs to the demo zone. */
export function isDemoName(name: string): boolean {
  return name === 'netlab.test' || name.endsWith('.netlab.test') || Object.hasOwn(ZONE, name);
}

/** What an authoritative server for the zone answers to (`name`, `type`). */
export function demoAnswer(
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
