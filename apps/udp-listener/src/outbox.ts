/**
 * Replies handed to the socket whose send has not completed yet. Node
 * queues a send the kernel cannot take at once (its send buffer is full,
 * as behind a saturated link) in memory, without bound; this counts them,
 * refuses a reply past `max`, and lets a shutdown wait for the rest.
 */
export class Outbox {
  readonly max: number;
  #pending = 0;
  #onIdle: (() => void) | undefined;

  constructor(max: number) {
    this.max = max;
  }

  get pending(): number {
    return this.#pending;
  }

  /** Whether `max` replies are already waiting: the next one is skipped. */
  get full(): boolean {
    return this.#pending >= this.max;
  }

  /** One reply handed to the socket (after checking `full`). */
  start(): void {
    this.#pending++;
  }

  /** One reply's send completed (sent or failed). */
  done(): void {
    this.#pending--;
    if (this.#pending === 0) this.#onIdle?.();
  }

  /** Resolves true once nothing is waiting, or false after `timeoutMs` with replies still waiting. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.#pending === 0) return Promise.resolve(true);
    // 0 is no wait at all, not "until the next turn of the event loop".
    if (timeoutMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#onIdle = undefined;
        resolve(false);
      }, timeoutMs);
      this.#onIdle = () => {
        clearTimeout(timer);
        this.#onIdle = undefined;
        resolve(true);
      };
    });
  }
}
