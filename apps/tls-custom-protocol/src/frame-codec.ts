import { ProtocolError } from './errors.js';
import { type Frame, HEADER_BYTES, VERSION } from './protocol.js';

export interface FrameDecoderOptions {
  /** Largest payload accepted; a header claiming more is refused before its payload arrives. */
  maxFrameBytes: number;
  /** Which side decodes: a server refuses response types, a client takes only them. */
  side: 'server' | 'client';
}

/**
 * Turns a byte stream, cut anywhere, into whole frames. TCP (and TLS over
 * it) delivers bytes, not messages: one read may hold half a header or fifty
 * frames. The decoder keeps the chunks it has been given and joins them only
 * when a whole frame is there, so a header that claims a large payload costs
 * nothing until those bytes have really arrived — and a claim above
 * `maxFrameBytes` is refused from the 12 header bytes alone. What it holds is
 * therefore bounded by maxFrameBytes + 12 + one read.
 *
 * Frames that fit inside one chunk are handed out as views into it (no copy).
 */
export class FrameDecoder {
  readonly #max: number;
  readonly #server: boolean;
  #chunks: Buffer[] = [];
  /** Bytes of `#chunks[0]` already handed out. */
  #offset = 0;
  /** Where the header `#peekHeader()` returned starts in it. */
  #headAt = 0;
  #buffered = 0;
  #failed: ProtocolError | undefined;

  constructor(opts: FrameDecoderOptions) {
    this.#max = opts.maxFrameBytes;
    this.#server = opts.side === 'server';
  }

  /** Bytes received and not yet handed out as frames. */
  get buffered(): number {
    return this.#buffered;
  }

  /**
   * The first framing error (bad version, reserved flags, too large), once
   * found: nothing after it can be trusted, so the decoder takes no more
   * bytes and the connection must end.
   */
  get error(): ProtocolError | undefined {
    return this.#failed;
  }

  /**
   * Adds bytes; returns the whole frames they complete, in order, up to the
   * first framing error (then see `error`).
   */
  push(chunk: Buffer): Frame[] {
    this.append(chunk);
    const frames: Frame[] = [];
    for (let frame = this.next(); frame !== undefined; frame = this.next()) frames.push(frame);
    return frames;
  }

  /** Adds bytes without decoding them yet: `next()` takes the frames one at a time. */
  append(chunk: Buffer): void {
    if (this.#failed || chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /**
   * True when `next()` has something to give: a whole frame, or a header
   * that will fail. False when what is buffered is only the start of a frame.
   */
  get ready(): boolean {
    if (this.#failed || this.#buffered < HEADER_BYTES) return false;
    const head = this.#peekHeader();
    const at = this.#headAt;
    const length = head.readUInt32BE(at + 8);
    return (
      this.#buffered >= HEADER_BYTES + length ||
      this.#check(head, at, head[at + 1]!, length) !== undefined
    );
  }

  /**
   * The next whole frame, or undefined when none is buffered yet or the
   * header of the next one breaks the rules (then `error` says how). A
   * server takes frames one at a time so that it decodes only the requests
   * it has room to answer: the rest stay bytes, not objects.
   */
  next(): Frame | undefined {
    if (this.#failed || this.#buffered < HEADER_BYTES) return undefined;
    const head = this.#peekHeader();
    const at = this.#headAt;
    const length = head.readUInt32BE(at + 8);
    const type = head[at + 1]!;
    const fail = this.#check(head, at, type, length);
    if (fail) {
      this.#failed = fail;
      this.#chunks = [];
      this.#offset = 0;
      this.#buffered = 0;
      return undefined;
    }
    const total = HEADER_BYTES + length;
    if (this.#buffered < total) return undefined;
    const id = head.readUInt32BE(at + 4);
    return { type, id, payload: this.#take(total) };
  }

  #check(head: Buffer, at: number, type: number, length: number): ProtocolError | undefined {
    const id = head.readUInt32BE(at + 4);
    if (head[at] !== VERSION) {
      return new ProtocolError('BAD_VERSION', `unsupported version ${head[at]}`, id);
    }
    if (head.readUInt16BE(at + 2) !== 0) {
      return new ProtocolError('MALFORMED_FRAME', 'reserved flags must be 0', id);
    }
    if (length > this.#max) {
      return new ProtocolError(
        'FRAME_TOO_LARGE',
        `frame of ${length} bytes exceeds the limit of ${this.#max}`,
        id,
      );
    }
    // Requests are 0x01-0x7f and responses have the high bit set (spec, "Frames").
    if (this.#server === type >= 0x80) {
      const what = this.#server
        ? 'a response type sent as a request'
        : 'a request type sent as a response';
      return new ProtocolError('MALFORMED_FRAME', what, id);
    }
    return undefined;
  }

  /**
   * A buffer holding the next 12 bytes from `#headAt`: the first chunk
   * itself (no copy, no view) unless the header spans chunks.
   */
  #peekHeader(): Buffer {
    const first = this.#chunks[0]!;
    if (first.length - this.#offset >= HEADER_BYTES) {
      this.#headAt = this.#offset;
      return first;
    }
    this.#headAt = 0;
    const rest = [first.subarray(this.#offset), ...this.#chunks.slice(1)];
    return Buffer.concat(rest, HEADER_BYTES);
  }

  /**
   * Removes the next frame of `n` bytes (only called once all n have
   * arrived) and returns its payload. A frame inside the first chunk costs
   * one view, its payload: the chunk is not re-sliced for what is left of
   * it, the offset moves instead (pipelined small requests are many per read).
   */
  #take(n: number): Buffer {
    this.#buffered -= n;
    const first = this.#chunks[0]!;
    const offset = this.#offset;
    if (first.length - offset >= n) {
      const payload = first.subarray(offset + HEADER_BYTES, offset + n);
      if (first.length - offset === n) {
        this.#chunks.shift();
        this.#offset = 0;
      } else {
        this.#offset = offset + n;
      }
      return payload;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[0]!;
      const from = this.#offset;
      const want = n - filled;
      const has = chunk.length - from;
      if (has <= want) {
        chunk.copy(out, filled, from);
        filled += has;
        this.#chunks.shift();
        this.#offset = 0;
      } else {
        chunk.copy(out, filled, from, from + want);
        filled += want;
        this.#offset = from + want;
      }
    }
    return out.subarray(HEADER_BYTES);
  }
}
