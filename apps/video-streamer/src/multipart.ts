import { randomBytes } from 'node:crypto';
import type { BodyPart } from './file-body.js';
import type { ByteRange } from './range.js';

/** A multipart/byteranges body (RFC 9110 §14.6): its parts, closing delimiter and length. */
export interface Byteranges {
  readonly contentType: string;
  readonly parts: readonly BodyPart[];
  readonly tail: Buffer;
  /** Content-Length of the whole body: every head, every range, the tail. */
  readonly length: number;
}

/**
 * A boundary (RFC 2046 §5.1.1: 1-70 characters) no file can be made to
 * contain on purpose: random per response, so a file that holds
 * `--<boundary>` cannot forge a part of its own for a client that splits
 * on it. nginx numbers its boundaries; a counter would be guessable.
 */
export const newBoundary = () => randomBytes(12).toString('hex');

/**
 * The framing nginx sends, byte for byte: each part is CRLF, `--boundary`,
 * its Content-Type and Content-Range, a blank line, then the bytes; the body
 * ends with CRLF `--boundary--` CRLF. (The CRLF before each delimiter belongs
 * to the delimiter, RFC 2046 §5.1.1; the body's first one is a preamble's.)
 */
export function byteranges(
  ranges: readonly ByteRange[],
  size: number,
  type: string,
  boundary: string,
): Byteranges {
  let length = 0;
  const parts = ranges.map(({ start, end }) => {
    const head = Buffer.from(
      `\r\n--${boundary}\r\nContent-Type: ${type}\r\nContent-Range: bytes ${start}-${end}/${size}\r\n\r\n`,
      'latin1',
    );
    length += head.length + end - start + 1;
    return { head, start, end };
  });
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
  return {
    contentType: `multipart/byteranges; boundary=${boundary}`,
    parts,
    tail,
    length: length + tail.length,
  };
}
