import { promises as dnsPromises, type LookupAddress } from 'node:dns';
import { DnsApiError } from './errors.js';
import { Limiter } from './limiter.js';

export type LookupFn = (
  name: string,
  opts: { family: 0 | 4 | 6; all: true },
) => Promise<LookupAddress[]>;

export interface Lookups {
  /** Every address getaddrinfo returns for `name`, in its order. */
  lookup(name: string, family: 0 | 4 | 6, signal?: AbortSignal): Promise<LookupAddress[]>;
  readonly limiter: Limiter;
}

/**
 * `dns.lookup` is getaddrinfo(3): it honours /etc/hosts and nsswitch, so it
 * answers what every other program on this host would connect to. It runs
 * on libuv's thread pool (4 threads by default, shared with fs, crypto and
 * zlib), and one slow DNS server can hold a thread for seconds; so at most
 * `concurrency` run at once, `queueSize` more wait, and the rest are refused
 * with 503 instead of queueing behind the pool without bound.
 */
export function createLookups(opts: {
  concurrency: number;
  queueSize: number;
  lookup?: LookupFn;
}): Lookups {
  const lookupFn: LookupFn = opts.lookup ?? ((name, o) => dnsPromises.lookup(name, o));
  const limiter = new Limiter(opts.concurrency, opts.queueSize);
  return {
    limiter,
    async lookup(name, family, signal) {
      try {
        return await limiter.run(() => lookupFn(name, { family, all: true }), signal);
      } catch (err) {
        throw lookupError(err as NodeJS.ErrnoException);
      }
    },
  };
}

function lookupError(err: NodeJS.ErrnoException): Error {
  switch (err.code) {
    case 'NETLAB_ERR_LOOKUP_BUSY':
      return new DnsApiError('NETLAB_ERR_LOOKUP_BUSY', undefined, { cause: err });
    case 'ABORT_ERR':
      return err;
    // getaddrinfo's EAI_NONAME and EAI_NODATA: the name has no address.
    case 'ENOTFOUND':
    case 'ENODATA':
      return new DnsApiError('NETLAB_ERR_NAME_NOT_FOUND', 'getaddrinfo: no address for this name', {
        cause: err,
      });
    // EAI_AGAIN is glibc's answer both for a server that did not reply and
    // for SERVFAIL: a temporary failure, not a verdict on the name.
    case 'EAI_AGAIN':
      return new DnsApiError(
        'NETLAB_ERR_DNS_FAILURE',
        'getaddrinfo: temporary failure (EAI_AGAIN)',
        {
          cause: err,
        },
      );
    default:
      return new DnsApiError('NETLAB_ERR_DNS_FAILURE', `getaddrinfo: ${err.code ?? err.message}`, {
        cause: err,
      });
  }
}
