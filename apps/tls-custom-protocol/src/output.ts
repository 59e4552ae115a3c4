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
/** Written-out blocks kept for reuse, for the whole process (at most 128 KiB). */
const SPARE_BLOCKS = 8;

/**
 * Blocks every connection's answers have left: the next block comes from
 * here before a new one is allocated. Each block is memory outside V8's
 * heap, and V8 collects garbage when that memory grows: under pipelined
 * ECHO, allocating a block per 15 answers cost more in mark-compact
 * collections than sealing the answers in TLS (CPU profile, README). A
 * block is given back only once the socket reported every region of it
 * written, so no byte of it is still waiting to leave; what is reused is
 * always overwritten before it is sent.
 */
const spares: Buffer[] = [];

/** A block, and how many of its regions are queued or being written. */
interface Block {
  readonly bytes: Buffer;
  regions: number;
  /** No longer the block answers are written into: reusable once `regions` is 0. */
  retired: boolean;
}

function release(block: Block): void {
  if (spares.length < SPARE_BLOCKS) spares.push(block.bytes);
}

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
  /** The block each region of `#queue` lies in (undefined: a large payload of its own). */
  #owners: Array<Block | undefined> = [];
  #queued = 0;
  /** The block small frames are written into; [#start, #end) is not queued yet. */
  #block: Buffer | undefined;
  #current: Block | undefined;
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
      const block = this.#block!;
      writeHeader(block, type, id, length, at);
      // set(), not copy(): copy() goes through checks and, on Node 20, a
      // view of the source per call; a pipelined ECHO pays this per request.
      if (payload !== undefined) block.set(payload, at + HEADER_BYTES);
      this.#end += HEADER_BYTES + length;
      return;
    }
    const at = this.#room(HEADER_BYTES);
    writeHeader(this.#block!, type, id, length, at);
    this.#end = at + HEADER_BYTES;
    this.#seal();
    this.#queue.push(shared ? payload! : Buffer.from(payload!));
    this.#owners.push(undefined);
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
      const old = this.#current;
      if (old !== undefined) {
        old.retired = true;
        if (old.regions === 0) release(old);
      }
      // Not from Node's shared pool: this block is ours to fill.
      this.#block = spares.pop() ?? Buffer.allocUnsafeSlow(BLOCK_BYTES);
      this.#current = { bytes: this.#block, regions: 0, retired: false };
      this.#start = 0;
      this.#end = 0;
    }
    return this.#end;
  }

  /** Moves the block's unqueued bytes to the queue (the socket may hold them: never rewritten). */
  #seal(): void {
    if (this.#end > this.#start) {
      this.#queue.push(this.#block!.subarray(this.#start, this.#end));
      this.#owners.push(this.#current);
      this.#current!.regions++;
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
    const owners = this.#owners.splice(0, count);
    this.#queued -= bytes;
    // Corked, the batch leaves as one writev: TLS seals it into few records.
    if (batch.length > 1) this.#socket.cork();
    for (let i = 0; i < batch.length - 1; i++) this.#socket.write(batch[i]!);
    this.#socket.write(batch[batch.length - 1]!, (err) => {
      // Written (the whole batch: the last write completes after the others):
      // its blocks may be reused. After an error, they are left to the GC.
      if (!err) {
        for (const block of owners) {
          if (block !== undefined && --block.regions === 0 && block.retired) release(block);
        }
      }
      done();
    });
    if (batch.length > 1) this.#socket.uncork();
  }
}
