import type { CacheEntry } from './cache.js';
import type { DnsApiError } from './errors.js';
import { RECORD_TYPES } from './record-type.js';
import type { Answer, Failure } from './resolution.js';

/**
 * An answer as the client gets it: dns-json's `Status`, `Question` and
 * `Answer` (left out when empty, as Google and Cloudflare do), then where it
 * came from: `upstream` (the server that answered), `cached` and `age`
 * (seconds in the cache). A cached record's TTL counts down with its age,
 * as any caching resolver's does (RFC 1035 §4.1.3). `maxAgeS` is what is
 * left of the answer's cache lifetime, for `Cache-Control`.
 *
 * The age is rounded up: an answer 6.2 s into a TTL of 7 is told with TTL 0
 * and max-age=0, never TTL 1, which would let a client keep it 0.2 s past
 * what the server allowed. The lifetime is whole seconds, so max-age is
 * then exactly the lifetime less the age: the TTL of the answer's shortest
 * record, as the client sees it.
 */
export function renderAnswer(
  entry: CacheEntry<Answer>,
  cached: boolean,
  now: number,
): { body: string; maxAgeS: number } {
  // A fresh answer is told as of its arrival: the few milliseconds it took
  // to reach here must not turn a TTL of 300 into max-age=299.
  const at = cached ? now : entry.storedAt;
  const answer = entry.value;
  const ageS = Math.max(0, Math.ceil((at - entry.storedAt) / 1000));
  const lifetimeS = Math.round((entry.expiresAt - entry.storedAt) / 1000);
  const maxAgeS = Math.max(0, lifetimeS - ageS);
  const upstream = answer.upstream;
  // Cache hits are the hot path, and one answer's body changes once a second at most.
  if (cached && answer.memo?.ageS === ageS) return { body: answer.memo.body, maxAgeS };
  const body = `${JSON.stringify({ ...dnsJson(answer, ageS), upstream, cached, age: ageS })}\n`;
  if (cached) answer.memo = { ageS, body };
  return { body, maxAgeS };
}

function dnsJson(answer: Answer, ageS: number) {
  const out: Record<string, unknown> = {
    Status: answer.status,
    Question: [{ name: answer.name, type: RECORD_TYPES[answer.type] }],
  };
  if (answer.records.answers.length > 0) {
    out.Answer =
      ageS === 0
        ? answer.records.answers
        : answer.records.answers.map((r) => ({ ...r, TTL: Math.max(0, r.TTL - ageS) }));
  }
  return out;
}

/** A resolution that got no answer: the error, with the RCODE and question where known. */
export function failureJson(
  failure: Failure & { cached?: boolean },
  upstream: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (failure.status !== undefined) out.Status = failure.status;
  out.Question = [{ name: failure.name, type: RECORD_TYPES[failure.type] }];
  const body: Record<string, unknown> = {
    ...out,
    ...errorJson(failure.error),
    upstream: failure.upstream ?? upstream,
  };
  // A failure told again from the cache (CACHE_FAILURE_TTL_S) says so.
  if (failure.cached === true) body.cached = true;
  return body;
}

export function errorJson(error: DnsApiError): Record<string, unknown> {
  return error.toJSON();
}
