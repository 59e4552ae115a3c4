import type { Socket } from 'node:net';
import { HEADER_BYTES, writeHeader } from './protocol.js';

/** Small answers are copied into blocks of this size, one after another. */
const BLOCK_BYTES = 16 * 1024;
/**
 * What the socket is given at once. Node's TLS layer encrypts a whole write
 * before sending it and keeps both copies until the kernel takes the
 * ciphertext, so a write in flight costs twice its size: keep it small, and
 * the rest waits here, counted once.
 */
const BATCH_BYTES = 64 * 1024;

/**
 * The answers of one connection on their way to its socket, kept so that
 * what they cost in memory is what they count in bytes.
 *
 * Why not just `socket.write()` each answer: every write is a chunk object
 * (a Buffer view plus the stream's bookkeeping, ~140 bytes measured) that
 * `writableLength` does not count. A client that pipelines PINGs and never
 * reads had 1 MiB of 12-byte PONGs waiting, counted as 1 MiB and costing
 * ~15 MB of RSS. So here:
 * - a frame up to BLOCK_BYTES is written (header and payload) into a shared
 *   block; a larger payload is copied once into a buffer of its own, or,
 *   when the caller says it is `shared` (STREAM's DATA: the same zeros for
 *   every frame), not copied at all. Nothing queued is a view that keeps a
 *   larger buffer (a read chunk) alive;
 * - the socket is given one batch at a time (up to BATCH_BYTES): what was
 *   queued while the last batch was being written leaves as one write (one
 *   writev), so a client that sends one request per TLS record still costs
 *   one chunk per batch, not one per answer.
 * `buffered` (queued here + in the socket) is what flow control compares
 * with MAX_BUFFERED_BYTES; RSS per connection follows it (README, measured).
 */
export class Output {
  readonly #socket: Socket;
  readonly #onWritten: () => void;
  /** Regions of blocks and large payloads waiting for the next batch, in order. */
  #queue: Buffer[] = [];
  #queued = 0;
  /** The block small frames are written into; [#start, #end) is not queued yet. */
  #block: Buffer | undefined;
  #start = 0;
  #end = 0;
  #writing = false;
  #ended = false;

  /** `onWritten`: a batch has left for the kernel; there may be room again. */
  constructor(socket: Socket, onWritten: () => void) {
    this.#socket = socket;
    this.#onWritten = onWritten;
  }

  /** Bytes of answers not yet handed to the kernel: queued here and in the socket. */
  get buffered(): number {
    return this.#queued + (this.#end - this.#start) + this.#socket.writableLength;
  }

  /** Queues one frame. `shared`: the payload is never modified and may be sent without a copy. */
  frame(type: number, id: number, payload?: Buffer, shared = false): void {
    if (this.#ended || this.#socket.destroyed) return;
    const length = payload?.length ?? 0;
    if (HEADER_BYTES + length <= BLOCK_BYTES) {
      const at = this.#room(HEADER_BYTES + length);
      writeHeader(this.#block!.subarray(at), type, id, length);
      payload?.copy(this.#block!, at + HEADER_BYTES);
      this.#end += HEADER_BYTES + length;
      return;
    }
    const at = this.#room(HEADER_BYTES);
    writeHeader(this.#block!.subarray(at), type, id, length);
    this.#end = at + HEADER_BYTES;
    this.#seal();
    this.#queue.push(shared ? payload! : Buffer.from(payload!));
    this.#queued += length;
  }

  /** Hands what is queued to the socket, unless a batch is being written (it follows that one). */
  flush(): void {
    if (this.#writing || this.#ended || this.#socket.destroyed) return;
    this.#seal();
    if (this.#queue.length === 0) return;
    this.#writing = true;
    this.#write(() => {
      this.#writing = false;
      if (this.#socket.destroyed) return;
      this.flush();
      this.#onWritten();
    });
  }

  /** Writes everything queued, then ends the socket (FIN after the last answer). */
  end(): void {
    if (this.#ended || this.#socket.destroyed) return;
    this.#seal();
    this.#ended = true;
    if (this.#queue.length > 0) this.#write(() => {}, true);
    this.#socket.end();
  }

  /** Makes room for `bytes` in the block; returns where they go. */
  #room(bytes: number): number {
    if (this.#block === undefined || this.#end + bytes > BLOCK_BYTES) {
      this.#seal();
      // Not from Node's shared pool: this block is ours to fill.
      this.#block = Buffer.allocUnsafeSlow(BLOCK_BYTES);
      this.#start = 0;
      this.#end = 0;
    }
    return this.#end;
  }

  /** Moves the block's unqueued bytes to the queue (the socket may hold them: never rewritten). */
  #seal(): void {
    if (this.#end > this.#start) {
      this.#queue.push(this.#block!.subarray(this.#start, this.#end));
      this.#queued += this.#end - this.#start;
      this.#start = this.#end;
    }
  }

  /** Writes the next batch (up to BATCH_BYTES, at least one segment); `all`: the whole queue. */
  #write(done: () => void, all = false): void {
    let count = 0;
    let bytes = 0;
    while (count < this.#queue.length && (all || count === 0 || bytes < BATCH_BYTES)) {
      bytes += this.#queue[count++]!.length;
    }
    const batch = this.#queue.splice(0, count);
    this.#queued -= bytes;
    // Corked, the batch leaves as one writev: TLS seals it into few records.
    if (batch.length > 1) this.#socket.cork();
    for (let i = 0; i < batch.length - 1; i++) this.#socket.write(batch[i]!);
    this.#socket.write(batch[batch.length - 1]!, () => done());
    if (batch.length > 1) this.#socket.uncork();
  }
}
