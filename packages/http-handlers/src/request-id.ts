import { randomBytes } from 'node:crypto';

// What we echo back in a response header must not let a client inject
// headers (CR/LF) or smuggle a megabyte of text into every log line.
// UUIDs, ULIDs, W3C trace ids, base64 and the usual "svc:123" all fit.
const SANE_ID = /^[A-Za-z0-9._~:/+=@-]{1,128}$/;

/** True when a client-sent X-Request-Id is safe to reuse as ours. */
export function isSaneRequestId(value: string): boolean {
  return SANE_ID.test(value);
}

/**
 * A generator of request ids: a random per-process prefix plus a counter.
 * Unique across replicas and cluster workers (the prefix), ordered within
 * one process (the counter), and about ten times cheaper per request than
 * `crypto.randomUUID()`. Ids only correlate log lines; they are not secrets,
 * so being guessable costs nothing.
 */
export function requestIdGenerator(
  prefix: string = randomBytes(6).toString('base64url'),
): () => string {
  let next = 0;
  return () => {
    next++;
    return `${prefix}-${next.toString(36)}`;
  };
}
