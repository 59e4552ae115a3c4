import { getServers } from 'node:dns';
import dnsPacket, { type DecodedPacket, type RecordType as PacketType } from 'dns-packet';
import { demoAnswer, isDemoName } from './demo-zone.js';
import { DnsApiError } from './errors.js';
import type { RecordType } from './record-type.js';
import { fromPacket, type Records } from './records.js';
import { parseServer } from './servers.js';
import { DnsClient, rcodeOf, type ServerAddress, serverAddress } from './wire.js';

/** What asking the DNS servers gave: an answer (with its RCODE) or a failure. */
export type QueryResult =
  | {
      kind: 'answer';
      /** DNS RCODE: 0 NOERROR, 3 NXDOMAIN */
      status: 0 | 3;
      records: Records;
      /** The server that answered. */
      upstream: string;
    }
  | {
      kind: 'failure';
      error: DnsApiError;
      /** The RCODE, when a server sent one. */
      status?: number;
      outcome: Outcome;
      /** RFC 9520: a resolution failure is cached briefly; a refusal of our own (busy, shutdown) is not. */
      cacheable: boolean;
      /** The server that answered with the failure (SERVFAIL, REFUSED…); unset: every server asked. */
      upstream?: string;
    };

/** How a query ended, for metrics. */
export type Outcome =
  | 'noerror'
  | 'nodata'
  | 'nxdomain'
  | 'servfail'
  | 'refused'
  | 'timeout'
  | 'busy'
  | 'error';

export interface Upstream {
  query(name: string, type: RecordType): Promise<QueryResult>;
  /** The servers asked, in order. */
  readonly servers: string;
  /** Queries out to the servers now (DNS_MAX_IN_FLIGHT caps them). */
  readonly inFlight: number;
  /** Datagrams ignored because they did not answer the question asked (wrong ID or question). */
  readonly mismatched: number;
  /** Ends every query in flight (they fail): for shutdown. */
  cancel(): void;
}

export interface UpstreamOptions {
  /** Normalised `ip:port` entries; undefined: the system's (`dns.getServers()`, from /etc/resolv.conf). */
  servers: readonly string[] | undefined;
  timeoutMs: number;
  tries: number;
  maxInFlight: number;
  /** Answer names under `netlab.test` from the built-in demo zone (DNS_DEMO_ZONE). */
  demoZone: boolean;
}

export const DEMO_UPSTREAM = 'demo-zone';

/**
 * The DNS servers, asked with our own stub resolver (src/wire.ts): Node's
 * `dns.Resolver` reports TTLs only for A and AAAA, and reading the answer's
 * own records is the only way to know how long any other answer may live.
 */
export function createUpstream(opts: UpstreamOptions): Upstream {
  const list = (opts.servers ?? systemServers()).map(serverAddress);
  const servers = list.map((s) => s.text).join(',');
  const client = new DnsClient({
    timeoutMs: opts.timeoutMs,
    tries: opts.tries,
    maxInFlight: opts.maxInFlight,
  });
  return {
    servers,
    get inFlight() {
      return client.inFlight;
    },
    get mismatched() {
      return client.mismatched;
    },
    cancel: () => client.cancel(),
    async query(name, type) {
      if (opts.demoZone && isDemoName(name)) {
        return answerOf(name, type, demoPacket(name, type), DEMO_UPSTREAM);
      }
      if (list.length === 0) {
        return failure('NETLAB_ERR_DNS_FAILURE', 'error', 'no DNS server configured', true);
      }
      const got = await client.query(list, name, type);
      switch (got.kind) {
        case 'response':
          return answerOf(name, type, got.packet, got.server);
        case 'timeout':
          return failure('NETLAB_ERR_DNS_TIMEOUT', 'timeout', `no answer from ${servers}`, true);
        case 'unreachable':
          return failure('NETLAB_ERR_DNS_FAILURE', 'error', `could not reach ${got.detail}`, true);
        case 'busy':
          return failure(
            'NETLAB_ERR_DNS_BUSY',
            'busy',
            `${opts.maxInFlight} queries already out (DNS_MAX_IN_FLIGHT)`,
            false,
          );
        case 'cancelled':
          return failure('NETLAB_ERR_DNS_FAILURE', 'error', 'cancelled: shutting down', false);
      }
    },
  };
}

/** The system's servers, as DNS_SERVERS would spell them; the ones it cannot parse are left out. */
function systemServers(): string[] {
  const out: string[] = [];
  for (const s of getServers()) {
    const parsed = parseServer(s);
    if ('value' in parsed) out.push(parsed.value);
  }
  return out;
}

const RCODE_FAILURES: Record<number, [Parameters<typeof failure>[0], Outcome, string]> = {
  1: ['NETLAB_ERR_DNS_FAILURE', 'error', 'FORMERR'],
  2: ['NETLAB_ERR_DNS_SERVFAIL', 'servfail', 'SERVFAIL'],
  4: ['NETLAB_ERR_DNS_FAILURE', 'error', 'NOTIMP'],
  5: ['NETLAB_ERR_DNS_REFUSED', 'refused', 'REFUSED'],
};

function answerOf(
  name: string,
  type: RecordType,
  packet: DecodedPacket,
  server: string,
): QueryResult {
  const rcode = rcodeOf(packet);
  if (rcode === 0 || rcode === 3) {
    return {
      kind: 'answer',
      status: rcode,
      records: fromPacket(name, type, packet),
      upstream: server,
    };
  }
  const [code, outcome, text] = RCODE_FAILURES[rcode] ?? [
    'NETLAB_ERR_DNS_FAILURE',
    'error',
    `RCODE ${rcode}`,
  ];
  return {
    ...failure(code, outcome, `${server} answered ${text}`, true),
    status: rcode,
    upstream: server,
  };
}

function failure(
  code: ConstructorParameters<typeof DnsApiError>[0],
  outcome: Outcome,
  detail: string,
  cacheable: boolean,
): Extract<QueryResult, { kind: 'failure' }> {
  return { kind: 'failure', error: new DnsApiError(code, detail), outcome, cacheable };
}

/** The demo zone's answer, encoded and decoded as a server's would be: the same path as any answer. */
function demoPacket(name: string, type: RecordType): DecodedPacket {
  const { rcode, answers, authorities } = demoAnswer(name, type);
  return dnsPacket.decode(
    dnsPacket.encode({
      id: 0,
      type: 'response',
      flags: dnsPacket.AUTHORITATIVE_ANSWER | rcode,
      questions: [{ name, type: type as PacketType, class: 'IN' }],
      answers,
      authorities,
    }),
  );
}

export type { ServerAddress };
