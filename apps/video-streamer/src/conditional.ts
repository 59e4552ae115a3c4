import type { BigIntStats } from 'node:fs';
import { parseHttpDate } from './http-date.js';

/** What a client can validate a cached copy of a file against. */
export interface Validators {
  /** A strong entity tag, quoted: `"…"`. */
  readonly etag: string;
  /** Last-Modified as sent, and its value in ms (whole seconds: HTTP dates have no finer grain). */
  readonly lastModified: string;
  readonly lastModifiedMs: number;
  /** The file's mtime in ms, unrounded. */
  readonly mtimeMs: number;
}

/**
 * Strong validators (RFC 9110 §8.8): the ETag changes whenever the file's
 * bytes can have changed. It is built from inode, size and the nanosecond
 * mtime, as nginx and send do with coarser parts; hashing the content would
 * make every first request of a 1 GiB file read it whole. A file replaced
 * by rename gets a new inode, one rewritten in place a new mtime.
 */
export function validatorsOf(stat: BigIntStats): Validators {
  const mtimeMs = Number(stat.mtimeMs);
  const lastModifiedMs = Math.floor(mtimeMs / 1000) * 1000;
  return {
    etag: `"${stat.ino.toString(36)}-${stat.size.toString(36)}-${stat.mtimeNs.toString(36)}"`,
    lastModified: new Date(lastModifiedMs).toUTCString(),
    lastModifiedMs,
    mtimeMs,
  };
}

/** The request headers the preconditions read (lower-case names, as Node gives them). */
export interface ConditionalHeaders {
  readonly 'if-match'?: string | undefined;
  readonly 'if-none-match'?: string | undefined;
  readonly 'if-modified-since'?: string | undefined;
  readonly 'if-unmodified-since'?: string | undefined;
}

export type Precondition = 'proceed' | 'not-modified' | 'failed';

/**
 * Evaluates the preconditions in the order of RFC 9110 §13.2.2 for a GET or
 * HEAD of an existing file: If-Match (strong comparison), else
 * If-Unmodified-Since → 412 when false; If-None-Match (weak comparison),
 * else If-Modified-Since → 304 when false. A date that does not parse is
 * ignored, as §13.1.3/§13.1.4 say.
 */
export function evaluatePreconditions(h: ConditionalHeaders, v: Validators): Precondition {
  const ifMatch = h['if-match'];
  if (ifMatch !== undefined) {
    if (!matchesAny(ifMatch, v.etag, 'strong')) return 'failed';
  } else if (h['if-unmodified-since'] !== undefined) {
    const date = parseHttpDate(h['if-unmodified-since']);
    if (date !== undefined && v.lastModifiedMs > date) return 'failed';
  }
  const ifNoneMatch = h['if-none-match'];
  if (ifNoneMatch !== undefined) {
    if (matchesAny(ifNoneMatch, v.etag, 'weak')) return 'not-modified';
  } else if (h['if-modified-since'] !== undefined) {
    const date = parseHttpDate(h['if-modified-since']);
    if (date !== undefined && v.lastModifiedMs <= date) return 'not-modified';
  }
  return 'proceed';
}

/**
 * If-Range (RFC 9110 §13.1.5): true when the Range may be honoured. An
 * entity tag must match by strong comparison, so a weak one never does
 * (send treats a weak tag as a match). A date must equal Last-Modified
 * exactly, and only counts when it is a strong validator (§8.8.2.2): the
 * file last changed at least a second ago, so no second write can have
 * happened within the same Last-Modified second. (send accepts any date
 * at or after Last-Modified.)
 */
export function ifRangeMatches(value: string, v: Validators, nowMs: number): boolean {
  const trimmed = value.trim();
  if (trimmed.startsWith('"') || trimmed.startsWith('W/')) {
    return trimmed === v.etag; // a weak tag starts with W/ and never equals a strong one
  }
  const date = parseHttpDate(trimmed);
  return date !== undefined && date === v.lastModifiedMs && nowMs - v.mtimeMs >= 1000;
}

/**
 * Whether the If-Match / If-None-Match list `header` holds `etag` (ours is
 * always strong). `*` matches any current representation. Strong comparison
 * (§8.8.3.2): both tags strong and equal; weak: equal opaque parts.
 */
function matchesAny(header: string, etag: string, comparison: 'strong' | 'weak'): boolean {
  if (header.trim() === '*') return true;
  for (const tag of entityTags(header)) {
    if (tag.weak && comparison === 'strong') continue;
    if (tag.opaque === etag) return true;
  }
  return false;
}

/** The entity tags of a comma-separated list; stops at the first malformed element. */
function* entityTags(header: string): Generator<{ weak: boolean; opaque: string }> {
  // entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE (§8.8.3); etagc excludes DQUOTE, so no escapes.
  const tag = /\s*(W\/)?("[^"]*")\s*(?:,|$)/y;
  for (let m = tag.exec(header); m !== null; m = tag.exec(header)) {
    yield { weak: m[1] !== undefined, opaque: m[2]! };
    if (tag.lastIndex >= header.length) return;
  }
}
