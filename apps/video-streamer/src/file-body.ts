import { close, read } from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { Pace } from './rate.js';

/**
 * Fixed-size read buffers shared by every download, reused once the socket
 * has written them.
 *
 * Memory is bounded by a budget, not by the number of downloads times what
 * each may read ahead: a download can always have one buffer, so it always
 * makes progress, but a buffer to read further ahead comes from the budget,
 * and only while the buffers lent beyond each download's first fit in
 * `budgetBytes`. So memory stays under MAX_CONNECTIONS x one chunk + the
 * budget, however many clients stop reading, no stalled client can starve
 * the others, and the whole budget is used when they want it.
 */
export class BufferPool {
  readonly size: number;
  readonly #budget: number;
  readonly #maxFree: number;
  readonly #free: Buffer[] = [];
  #lent = 0;
  /** Buffers lent beyond each download's first: what the budget pays for. */
  #ahead = 0;

  constructor(size: number, budgetBytes: number) {
    this.size = size;
    this.#budget = Math.floor(budgetBytes / size);
    // Idle buffers kept for the next downloads: up to the budget, so an idle
    // server holds what a burst needed, and no more.
    this.#maxFree = Math.max(2, this.#budget);
  }

  /**
   * A buffer for a download that holds `held` already: always for its first
   * (held 0), else from the budget, or undefined when that is spent.
   */
  take(held: number): Buffer | undefined {
    if (held > 0) {
      if (this.#ahead >= this.#budget) return undefined;
      this.#ahead++;
    }
    this.#lent++;
    // allocUnsafeSlow: a buffer of its own, not a slice of Node's shared 8 KiB pool.
    return this.#free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  /** Back for reuse (nothing refers to `buf` any more) from a download that still holds `held`. */
  give(buf: Buffer, held: number): void {
    this.forget(held);
    if (this.#free.length < this.#maxFree) this.#free.push(buf);
  }

  /** No longer counted, but not reusable (a write still queued may read it); `held` as for give. */
  forget(held: number): void {
    this.#lent--;
    if (held > 0) this.#ahead--;
  }

  /** Bytes lent out now. */
  get lentBytes(): number {
    return this.#lent * this.size;
  }

  /** Bytes kept idle for the next downloads: at most the budget (two chunks when it is smaller). */
  get idleBytes(): number {
    return this.#free.length * this.size;
  }
}

/** How a body ended: every byte written, or not (`error` says why). */
export interface BodyResult {
  /** Body bytes the socket has written (file bytes and any multipart framing). */
  bytes: number;
  complete: boolean;
  error?: Error;
}

/** Bytes `start`..`end` (inclusive) of the file, after `head` (a multipart part's header). */
export interface BodyPart {
  readonly head?: Buffer;
  readonly start: number;
  readonly end: number;
}

// Chunks read and not yet written, at most, when the pool's budget allows:
// so the most memory one download holds. Two (one written while the next
// is read) is the least that keeps both the file and the socket busy; on 32
// downloads at once, with a busy thread pool, four measured about 1.2x two
// (32 x 256 MiB, three alternating rounds, noisy shared machine: 1,526 vs
// 1,264 MB/s median).
const IN_FLIGHT = 4;

/**
 * Sends `parts` of the open file `fd` as the body of `res`, each after its
 * `head`, then `tail`, then ends it, closes `fd` and calls `done` once.
 * One part without head or tail is a plain 200/206 body; several are a
 * multipart/byteranges one (its framing is built by the caller).
 *
 * Why not `createReadStream(…).pipe(res)`: that allocates a fresh buffer
 * for every read, and at these sizes each allocation is fresh pages from
 * the kernel (mmap, page faults, zeroing, munmap). Reusing buffers that the
 * socket has finished with (the write callback) measured about 1.8x the
 * throughput on one 1 GiB download (bench/scenarios/video-streamer.mjs).
 *
 * Backpressure is stricter than a pipe's high-water mark: a chunk is read
 * only while fewer than IN_FLIGHT are unwritten (and only one when the
 * pool's budget is spent), so a client that stops reading stops the reads
 * and the download holds at most IN_FLIGHT chunks (plus the small part
 * heads, at most MAX_RANGES of them). A client that goes away
 * stops it at once; the file is closed as soon as no read is using it
 * (closing it under a pending read could let the number be reused by
 * another open file before that read runs).
 */
export function sendFileBody(
  res: ServerResponse,
  fd: number,
  parts: readonly BodyPart[],
  tail: Buffer | undefined,
  pool: BufferPool,
  /** `?rate=`: chunks go out no faster than this allows (rate.ts). */
  rate: Pace | undefined,
  done: (result: BodyResult) => void,
): void {
  let part = -1;
  let paced: NodeJS.Timeout | undefined;
  let position = 0;
  let end = -1;
  let written = 0;
  // Buffers handed to res.write() whose callback has not come yet.
  const unwritten = new Set<Buffer>();
  let reading = false;
  let finished = false;
  let fdOpen = true;
  // Part heads handed to res.write() whose callback has not come yet.
  let framing = 0;
  let ending = false;

  const closeFd = () => {
    if (fdOpen && !reading) {
      fdOpen = false;
      close(fd, () => {});
    }
  };
  const finish = (complete: boolean, error?: Error) => {
    if (finished) return;
    finished = true;
    if (paced !== undefined) clearTimeout(paced);
    closeFd();
    // A socket destroyed before its 'close' event never calls back for the
    // writes still queued on it: stop counting those buffers now. (A read
    // still in flight holds its buffer until it returns.)
    let held = unwritten.size + (reading ? 1 : 0);
    for (const _ of unwritten) pool.forget(--held);
    unwritten.clear();
    done(error === undefined ? { bytes: written, complete } : { bytes: written, complete, error });
  };

  // The client may have gone while the file was being opened: its 'close'
  // has been and gone, so nothing below would ever end this body.
  if (res.destroyed) {
    finish(false);
    return;
  }
  res.once('close', () => {
    if (!res.writableFinished) finish(false);
  });

  /** Small framing bytes (a part's head): counted once the socket has taken them. */
  const writeFraming = (bytes: Buffer) => {
    framing++;
    res.write(bytes, (writeErr) => {
      framing--;
      if (finished) return;
      if (writeErr) return finish(false);
      written += bytes.length;
      next();
    });
  };

  /** Reads on, or ends the body once every part is read and every write has called back. */
  const next = () => {
    if (finished || ending) return;
    if (position > end && part === parts.length - 1) {
      if (unwritten.size === 0 && framing === 0 && !reading) {
        ending = true;
        res.end(tail, () => {
          if (tail !== undefined && !finished) written += tail.length;
          finish(true);
        });
      }
      return;
    }
    pump();
  };

  const pump = () => {
    // Not once the socket is gone: its 'close' is coming, and a read
    // started now would only hold a buffer until it returned.
    if (finished || reading || paced !== undefined || res.destroyed) return;
    if (unwritten.size >= IN_FLIGHT) return;
    if (position > end) {
      if (part === parts.length - 1) return;
      const p = parts[++part]!;
      position = p.start;
      end = p.end;
      if (p.head !== undefined) writeFraming(p.head);
    }
    const length = Math.min(rate?.chunk ?? pool.size, pool.size, end - position + 1);
    const buf = pool.take(unwritten.size);
    if (buf === undefined) return; // read-ahead budget spent: the next write callback resumes
    const wait = rate?.wait(length) ?? 0;
    if (wait > 0) {
      pool.give(buf, unwritten.size);
      paced = setTimeout(() => {
        paced = undefined;
        pump();
      }, wait);
      return;
    }
    reading = true;
    read(fd, buf, 0, length, position, (err, n) => {
      reading = false;
      if (finished) {
        pool.give(buf, 0); // finish() let go of the others
        closeFd();
        return;
      }
      if (err !== null || n === 0) {
        // The file shrank or failed under us: the promised length cannot be
        // kept, so the only honest end is a cut connection.
        pool.give(buf, unwritten.size);
        const error = err ?? new Error('file ended before its Content-Length');
        finish(false, error);
        res.destroy(error);
        return;
      }
      position += n;
      unwritten.add(buf);
      res.write(n === buf.length ? buf : buf.subarray(0, n), (writeErr) => {
        if (!unwritten.delete(buf)) return; // already forgotten by finish()
        pool.give(buf, unwritten.size + (reading ? 1 : 0));
        if (writeErr) {
          finish(false);
          return;
        }
        written += n;
        next();
      });
      next();
    });
  };
  pump();
}
