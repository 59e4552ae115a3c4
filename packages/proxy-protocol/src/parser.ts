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
  #chunks: Buffer[] = [];
  #size = 0;
  // A v2 header's total length once its first 16 bytes are in: until then
  // chunks are only collected, so a header sent a byte at a time costs one
  // copy, not one per byte (65 551 bytes at most).
  #need = 0;
  #done = false;

  /** Bytes held so far. */
  get buffered(): number {
    return this.#size;
  }

  push(chunk: Buffer): ParseStep {
    if (this.#done) throw malformed('parser already finished');
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    if (this.#size < this.#need) return { state: 'more' };
    const buf = this.#chunks.length === 1 ? chunk : Buffer.concat(this.#chunks, this.#size);
    this.#chunks = [buf];
    const kind = detect(buf);
    if (kind === 'maybe') return { state: 'more' };
    if (kind === 'plain') return this.#finish({ state: 'plain', rest: buf });
    const header = kind === 'v1' ? parseV1(buf) : parseV2(buf);
    if (header === null) {
      if (kind === 'v2' && buf.length >= 16) this.#need = 16 + buf.readUInt16BE(14);
      return { state: 'more' };
    }
    return this.#finish({ state: 'done', header, rest: buf.subarray(header.length) });
  }

  #finish(step: ParseStep): ParseStep {
    this.#done = true;
    this.#chunks = [];
    this.#size = 0;
    return step;
  }
}

/** One-shot: parse a whole buffer (tests, tools). `more` means truncated. */
export function parseProxyHeader(buf: Buffer): ParseStep {
  return new ProxyHeaderParser().push(buf);
}
