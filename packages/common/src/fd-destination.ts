import { writeSync } from 'node:fs';

/**
 * netlab's log destination: lines written synchronously to a file
 * descriptor (stdout), plus `writeBytes()` for callers that encode a batch
 * of lines themselves (http-hello's access log).
 *
 * Like pino's own synchronous destination, a line is out before the call
 * returns, and a full non-blocking pipe (EAGAIN) is waited out rather than
 * lines being dropped. Unlike it, a reader that is gone (EPIPE: `| head`
 * has exited, the log collector died) does not take the server down with
 * an uncaught error: `onGone` hears of it once (by default one line on
 * stderr) and later lines are dropped. A server that cannot log can still
 * answer, and nothing piles up in memory for a reader that will not return.
 */
export class FdDestination {
  readonly fd: number;
  readonly #onGone: (err: NodeJS.ErrnoException) => void;
  #gone = false;

  constructor(fd: number, onGone: (err: NodeJS.ErrnoException) => void = reportOnStderr) {
    this.fd = fd;
    this.#onGone = onGone;
  }

  /** One or more whole lines, as pino hands them over. */
  write(lines: string): boolean {
    this.writeBytes(Buffer.from(lines));
    return true;
  }

  writeBytes(bytes: Uint8Array): void {
    if (this.#gone) return;
    try {
      writeFully(this.fd, bytes);
    } catch (err) {
      this.#gone = true;
      this.#onGone(err as NodeJS.ErrnoException);
    }
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * write(2) until every byte is out. A non-blocking descriptor (a pipe whose
 * reader is behind) answers EAGAIN or takes part of the bytes: wait 1 ms for
 * the reader and go on. Any other error is thrown.
 */
function writeFully(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) {
    try {
      done += writeSync(fd, bytes, done, bytes.length - done);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

function reportOnStderr(err: NodeJS.ErrnoException): void {
  try {
    writeSync(2, `netlab: log output failed (${err.code ?? err.message}): logging stopped\n`);
  } catch {
    // stderr is gone too: nobody is left to tell.
  }
}
