import { promises as dnsPromises } from 'node:dns';
import { DnsApiError } from './errors.js';
import type { RecordType } from './record-type.js';
import { type Records, toRecords } from './records.js';

/** What asking the DNS servers gave: an answer (with its RCODE) or a failure. */
export type QueryResult =
  | { kind: 'answer' /** DNS RCODE: 0 NOERROR, 3 NXDOMAIN */; status: 0 | 3; records: Records }
  | {
      kind: 'failure';
      error: DnsApiError /** The RCODE, when a server sent one. */;
      status?: number;
      outcome: Outcome;
    };

/** How a query ended, for metrics. */
export type Outcome =
  | 'noerror'
  | 'nodata'
  | 'nxdomain'
  | 'servfail'
  | 'refused'
  | 'timeout'
  | 'error';

export interface Upstream {
  query(name: string, type: RecordType): Promise<QueryResult>;
  /** The servers asked, in order, as `resolver.getServers()` lists them. */
  readonly servers: string;
  /** Ends every query in flight (they fail with ECANCELLED): for shutdown. */
  cancel(): void;
}

export interface UpstreamOptions {
  /** `setServers` entries; undefined keeps the system's resolvers. */
  servers: readonly string[] | undefined;
  timeoutMs: number;
  tries: number;
}

type Resolver = InstanceType<typeof dnsPromises.Resolver>;

/**
 * The DNS servers, through one c-ares `Resolver`: queries go straight to the
 * servers over UDP (TCP when an answer is truncated), never through libuv's
 * thread pool, so any number can be in flight at once.
 */
export function createUpstream(opts: UpstreamOptions): Upstream {
  const resolver = new dnsPromises.Resolver({ timeout: opts.timeoutMs, tries: opts.tries });
  if (opts.servers !== undefined) resolver.setServers([...opts.servers]);
  const servers = resolver.getServers().join(',');
  return {
    servers,
    cancel: () => resolver.cancel(),
    async query(name, type) {
      try {
        const raw = await ask(resolver, name, type);
        const records = toRecords(name, type, raw);
        return { kind: 'answer', status: 0, records };
      } catch (err) {
        return fromError(err as NodeJS.ErrnoException, servers);
      }
    },
  };
}

function ask(resolver: Resolver, name: string, type: RecordType) {
  switch (type) {
    case 'A':
      return resolver.resolve4(name, { ttl: true });
    case 'AAAA':
      return resolver.resolve6(name, { ttl: true });
    case 'CNAME':
      return resolver.resolveCname(name);
    case 'NS':
      return resolver.resolveNs(name);
    case 'PTR':
      return resolver.resolvePtr(name);
    case 'MX':
      return resolver.resolveMx(name);
    case 'TXT':
      return resolver.resolveTxt(name);
    case 'SRV':
      return resolver.resolveSrv(name);
    case 'SOA':
      return resolver.resolveSoa(name);
    case 'CAA':
      return resolver.resolveCaa(name);
    case 'NAPTR':
      return resolver.resolveNaptr(name);
    case 'ANY':
      return resolver.resolveAny(name);
  }
}

const NO_RECORDS: Records = { answers: [], minTtl: undefined };

/**
 * c-ares reports NXDOMAIN and NODATA as errors; in DNS they are answers
 * (RCODE 3, and RCODE 0 with no records), and they are cached as such.
 * Everything else means no answer was had.
 */
function fromError(err: NodeJS.ErrnoException, servers: string): QueryResult {
  const fail = (
    code: ConstructorParameters<typeof DnsApiError>[0],
    outcome: Outcome,
    detail: string,
    status?: number,
  ): QueryResult => {
    const error = new DnsApiError(code, detail, { cause: err });
    return status === undefined
      ? { kind: 'failure', error, outcome }
      : { kind: 'failure', error, outcome, status };
  };
  switch (err.code) {
    case 'ENOTFOUND':
      return { kind: 'answer', status: 3, records: NO_RECORDS };
    case 'ENODATA':
      return { kind: 'answer', status: 0, records: NO_RECORDS };
    case 'ESERVFAIL':
      return fail('NETLAB_ERR_DNS_SERVFAIL', 'servfail', `${servers} answered SERVFAIL`, 2);
    case 'EREFUSED':
      return fail('NETLAB_ERR_DNS_REFUSED', 'refused', `${servers} answered REFUSED`, 5);
    case 'ETIMEOUT':
      return fail('NETLAB_ERR_DNS_TIMEOUT', 'timeout', `no answer from ${servers}`);
    case 'EFORMERR':
      return fail('NETLAB_ERR_DNS_FAILURE', 'error', `${servers} answered FORMERR`, 1);
    case 'ENOTIMP':
      return fail('NETLAB_ERR_DNS_FAILURE', 'error', `${servers} answered NOTIMP`, 4);
    case 'ECONNREFUSED':
      return fail(
        'NETLAB_ERR_DNS_FAILURE',
        'error',
        `could not reach ${servers} (connection refused)`,
      );
    default:
      return fail('NETLAB_ERR_DNS_FAILURE', 'error', `${err.code ?? 'error'}: ${err.message}`);
  }
}
