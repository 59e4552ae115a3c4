import { malformed } from './errors.js';
import type { ProxyHeader } from './header.js';
import { parseV1, V1_PREFIX } from './v1.js';
import { parseV2, V2_SIGNATURE } from './v2.js';

/** What the bytes so far say. */
export type ParseStep =
  /** Not enough bytes yet to tell, or the header is not complete. */
  | { state: 'more' }
  /** The connection does not start with a PROXY signature. */
  | { state: 'plain'; rest: Buffer }
  /** A complete header; `rest` is what followed it (a ClientHello, a request). */
  | { state: 'done'; header: ProxyHeader; rest: Buffer };

/** Which signature the bytes so far can still become. */
export function detect(buf: Buffer): 'v1' | 'v2' | 'maybe' | 'plain' {
  if (startsLike(buf, V2_SIGNATURE)) return buf.length >= V2_SIGNATURE.length ? 'v2' : 'maybe';
  if (startsLike(buf, V1_PREFIX)) return buf.length >= V1_PREFIX.length ? 'v1' : 'maybe';
  return 'plain';
}

function startsLike(buf: Buffer, sig: Buffer): boolean {
  const n = Math.min(buf.length, sig.length);
  return buf.compare(sig, 0, n, 0, n) === 0;
}

/**
 * Streaming parser: feed chunks as they arrive, in any split. It keeps at
 * most one header's bytes (107 for v1, 65 551 for v2), then hands back
 * whatever came after the header untouched. Throws a ProxyProtocolError.
 */
export class ProxyHeaderParser {
  #buf: Buffer = Buffer.alloc(0);
  #done = false;

  /** Bytes held so far. */
  get buffered(): number {
    return this.#buf.length;
  }

  push(chunk: Buffer): ParseStep {
    if (this.#done) throw malformed('parser already finished');
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const buf = this.#buf;
    const kind = detect(buf);
    if (kind === 'maybe') return { state: 'more' };
    if (kind === 'plain') return this.#finish({ state: 'plain', rest: buf });
    const header = kind === 'v1' ? parseV1(buf) : parseV2(buf);
    if (header === null) return { state: 'more' };
    return this.#finish({ state: 'done', header, rest: buf.subarray(header.length) });
  }

  #finish(step: ParseStep): ParseStep {
    this.#done = true;
    this.#buf = Buffer.alloc(0);
    return step;
  }
}

/** One-shot: parse a whole buffer (tests, tools). `more` means truncated. */
export function parseProxyHeader(buf: Buffer): ParseStep {
  return new ProxyHeaderParser().push(buf);
}
