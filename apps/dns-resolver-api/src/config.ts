import { bool, type ConfigOf, commonVars, int } from '@netlab/common';
import { guardVars } from '@netlab/http-handlers';
import { proxyProtocolVars } from '@netlab/proxy-protocol';
import { serverList } from './servers.js';

/** Every variable dns-resolver-api reads; the README table is generated from this. */
export const schema = {
  ...commonVars({ port: 8053, adminPort: 9004 }),
  DNS_SERVERS: serverList(
    'DNS servers /resolve and /reverse ask, in order, e.g. `127.0.0.1:5353,[::1]:53`. Unset: the system resolvers (`dns.getServers()`, from /etc/resolv.conf). /lookup always asks the OS.',
  ),
  DNS_TIMEOUT_MS: int({
    default: 2000,
    min: 1,
    max: 60_000,
    doc: 'How long each try waits for a server to answer. A server that never answers costs DNS_TIMEOUT_MS x DNS_TRIES, then 504 (with n servers, n times that).',
  }),
  DNS_TRIES: int({
    default: 2,
    min: 1,
    max: 10,
    doc: 'How many times each server is asked (over UDP; TCP when the answer is truncated) before the answer is 504 (no reply) or 502.',
  }),
  DNS_MAX_IN_FLIGHT: int({
    default: 256,
    min: 1,
    max: 65_536,
    doc: 'Distinct queries out to the DNS servers at once at most (each holds one UDP socket on a random port); one more gets 503 NETLAB_ERR_DNS_BUSY at once. Identical questions share one query.',
  }),
  DNS_DEMO_ZONE: bool(
    true,
    'Answer `netlab.test` (and the reverse names of 192.0.2.10 and 2001:db8::10) from a small built-in zone, so the README examples work with no DNS server of your own. `.test` is never delegated (RFC 6761), so this shadows no real name. false: ask DNS_SERVERS for them too.',
  ),
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
    doc: 'Unused since every answer is cached for the TTLs its own records carry; still accepted so existing deployments start.',
  }),
  CACHE_MAX_TTL_S: int({
    default: 3600,
    min: 0,
    max: 604_800,
    doc: 'No answer stays cached longer than this, whatever its TTL (a shorter TTL is always kept).',
  }),
  CACHE_NEGATIVE_TTL_S: int({
    default: 30,
    min: 0,
    max: 86_400,
    doc: "NXDOMAIN and NODATA stay cached for the SOA record's TTL or MINIMUM, whichever is smaller (RFC 2308), and at most this long; without an SOA, not at all. 0: never cached.",
  }),
  CACHE_FAILURE_TTL_S: int({
    default: 5,
    min: 0,
    max: 300,
    doc: 'SERVFAIL, REFUSED, FORMERR, no answer and an unreachable server are cached this long (RFC 9520: at least 1 s, at most 5 min), so a failing name costs one upstream query per period, not one per request. 0: not cached.',
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
  ...proxyProtocolVars(),
};

export type ResolverApiConfig = ConfigOf<typeof schema>;
