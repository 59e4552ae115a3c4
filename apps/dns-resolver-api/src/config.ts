import { type ConfigOf, commonVars, int } from '@netlab/common';
import { guardVars } from '@netlab/http-handlers';
import { serverList } from './servers.js';

/** Every variable dns-resolver-api reads; the README table is generated from this. */
export const schema = {
  ...commonVars({ port: 8053, adminPort: 9004 }),
  DNS_SERVERS: serverList(
    'DNS servers /resolve and /reverse ask, in order, e.g. `127.0.0.1:5353,[::1]:53`. Unset: the system resolvers (/etc/resolv.conf). /lookup always asks the OS.',
  ),
  DNS_TIMEOUT_MS: int({
    default: 2000,
    min: 1,
    max: 60_000,
    doc: 'How long c-ares waits for an answer to its first try of a query before it tries again (later tries may wait longer: c-ares backs off and adapts to the latency it has measured).',
  }),
  DNS_TRIES: int({
    default: 2,
    min: 1,
    max: 10,
    doc: 'How many times c-ares asks each server before the answer is 504 (no reply) or 502.',
  }),
  CACHE_MAX_ENTRIES: int({
    default: 10_000,
    min: 0,
    max: 10_000_000,
    doc: 'Answers kept in the cache at most (by type and name); the least recently used goes first. 0: no cache.',
  }),
  CACHE_DEFAULT_TTL_S: int({
    default: 60,
    min: 0,
    max: 604_800,
    doc: 'Cache lifetime of an answer whose records carry no TTL (c-ares reports one only for A, AAAA and SOA).',
  }),
  CACHE_MAX_TTL_S: int({
    default: 3600,
    min: 0,
    max: 604_800,
    doc: 'No answer stays cached longer than this, whatever its TTL.',
  }),
  CACHE_NEGATIVE_TTL_S: int({
    default: 30,
    min: 0,
    max: 86_400,
    doc: 'Cache lifetime of NXDOMAIN and NODATA answers (0: not cached).',
  }),
  LOOKUP_CONCURRENCY: int({
    default: 2,
    min: 1,
    max: 128,
    doc: "/lookup calls getaddrinfo on libuv's thread pool (4 threads, shared with fs and crypto): at most this many run at once.",
  }),
  LOOKUP_QUEUE_SIZE: int({
    default: 100,
    min: 0,
    max: 100_000,
    doc: 'Lookups waiting for a free slot at most; one more gets 503 at once.',
  }),
  BATCH_MAX_QUERIES: int({
    default: 32,
    min: 1,
    max: 1000,
    doc: 'Queries in one POST /resolve at most; more gets 413 and none is sent.',
  }),
  MAX_BODY_BYTES: int({
    default: 65_536,
    min: 2,
    max: 16_777_216,
    doc: 'Largest POST /resolve body; a bigger one gets 413 (before it is read, when declared).',
  }),
  MAX_CONNECTIONS: int({
    default: 10_000,
    min: 1,
    max: 1_000_000,
    doc: 'Open connections at most; one more is closed at once.',
  }),
  HEADERS_TIMEOUT_MS: int({
    default: 10_000,
    min: 1,
    max: 600_000,
    doc: 'A client must send its complete request headers within this time, or gets 408 and is closed (slowloris). Capped at REQUEST_TIMEOUT_MS.',
  }),
  REQUEST_TIMEOUT_MS: int({
    default: 30_000,
    min: 0,
    max: 3_600_000,
    doc: 'A client must send its complete request, body included, within this time, or gets 408 and is closed (0: no limit).',
  }),
  KEEP_ALIVE_TIMEOUT_MS: int({
    default: 5_000,
    min: 0,
    max: 600_000,
    doc: 'An idle keep-alive connection is closed after this long without a new request.',
  }),
  IDLE_TIMEOUT_MS: int({
    default: 60_000,
    min: 0,
    max: 86_400_000,
    doc: 'A connection with no traffic either way for this long is closed (0: never).',
  }),
  MAX_HEADER_SIZE: int({
    default: 16_384,
    min: 1024,
    max: 1_048_576,
    doc: 'Largest request head (request line and headers) in bytes; above it the answer is 431.',
  }),
  ...guardVars(),
};

export type ResolverApiConfig = ConfigOf<typeof schema>;
