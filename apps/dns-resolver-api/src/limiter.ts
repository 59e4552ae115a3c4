/** Thrown by Limiter.run when every slot is busy and the queue is full. */
export class LimiterFullError extends Error {
  readonly code = 'NETLAB_ERR_LOOKUP_BUSY';
}

/** Thrown by Limiter.run when the caller gave up (its signal aborted) while waiting. */
export class LimiterAbortError extends Error {
  readonly code = 'ABORT_ERR';
}

interface Waiter {
  start(): void;
  abort?: { signal: AbortSignal; onAbort: () => void };
}

/**
 * At most `concurrency` tasks running, at most `queueSize` waiting for a
 * slot, and anything beyond refused at once (LimiterFullError). A waiter
 * whose caller gives up (the client disconnected) leaves the queue, so a
 * flood of abandoned requests cannot hold the slots of the ones still
 * waiting.
 */
export class Limiter {
  readonly #concurrency: number;
  readonly #queueSize: number;
  readonly #queue: Waiter[] = [];
  #active = 0;
  #rejected = 0;

  constructor(concurrency: number, queueSize: number) {
    this.#concurrency = concurrency;
    this.#queueSize = queueSize;
  }

  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(new LimiterAbortError('aborted before start'));
    if (this.#active < this.#concurrency) return this.#start(task);
    if (this.#queue.length >= this.#queueSize) {
      this.#rejected++;
      return Promise.reject(new LimiterFullError('every slot busy and the queue full'));
    }
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        start: () => {
          if (waiter.abort) waiter.abort.signal.removeEventListener('abort', waiter.abort.onAbort);
          this.#start(task).then(resolve, reject);
        },
      };
      if (signal) {
        const onAbort = () => {
          const i = this.#queue.indexOf(waiter);
          if (i !== -1) this.#queue.splice(i, 1);
          reject(new LimiterAbortError('gave up while queued'));
        };
        waiter.abort = { signal, onAbort };
        signal.addEventListener('abort', onAbort, { once: true });
      }
      this.#queue.push(waiter);
    });
  }

  async #start<T>(task: () => Promise<T>): Promise<T> {
    this.#active++;
    try {
      return await task();
    } finally {
      this.#active--;
      this.#queue.shift()?.start();
    }
  }

  /** Tasks running now. */
  get active(): number {
    return this.#active;
  }

  /** Tasks waiting for a slot. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Tasks refused because the queue was full, since the start. */
  get rejected(): number {
    return this.#rejected;
  }
}
