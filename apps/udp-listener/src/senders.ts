/** What the listener knows about one source address. */
export interface Sender {
  readonly address: string;
  datagrams: number;
  bytes: number;
  replies: number;
  suppressed: number;
  readonly firstSeen: number;
  lastSeen: number;
  /** Token bucket: replies this sender may get now, refilled over time. */
  tokens: number;
  refilledAt: number;
  /** The last ack sent to this address, and to which port: an ack coming back is a loop. */
  lastAck: Buffer | undefined;
  lastAckPort: number;
}

export interface SenderJson {
  address: string;
  datagrams: number;
  bytes: number;
  replies: number;
  suppressed: number;
  firstSeen: string;
  lastSeen: string;
}

/**
 * Per-source-address totals and reply budgets, bounded: at most `max`
 * addresses, the least recently seen forgotten first (a Map keeps insertion
 * order, and a sender seen again moves to the end). Whoever sends from
 * spoofed addresses fills the table, not our memory.
 *
 * The reply budget is a token bucket per address: `burst` replies at once,
 * then `ratePerSec`. Replies go to the source address a datagram claims, so
 * without it anyone could spoof a victim's address and have us send the
 * victim our replies (reflection). A forgotten address comes back with a
 * full bucket; with the default table of 1000 that takes 1000 other
 * addresses in between, each of them answered at most `burst` times too.
 */
export class Senders {
  readonly max: number;
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #table = new Map<string, Sender>();
  #latest: Sender | undefined;
  #forgotten = 0;

  constructor(opts: { max: number; ratePerSec: number; burst: number }) {
    this.max = opts.max;
    this.#ratePerMs = opts.ratePerSec / 1000;
    this.#burst = opts.burst;
  }

  get size(): number {
    return this.#table.size;
  }

  /** Addresses dropped from the table to make room for new ones. */
  get forgotten(): number {
    return this.#forgotten;
  }

  /** The record of `address`, now the most recently seen; created if new. */
  see(address: string, now: number): Sender {
    // A flood from one sender (the common case under load) skips the reordering.
    const latest = this.#latest;
    if (latest !== undefined && latest.address === address) {
      latest.lastSeen = now;
      return latest;
    }
    let sender = this.#table.get(address);
    if (sender === undefined) {
      if (this.#table.size >= this.max) this.#forgetOldest();
      sender = {
        address,
        datagrams: 0,
        bytes: 0,
        replies: 0,
        suppressed: 0,
        firstSeen: now,
        lastSeen: now,
        tokens: this.#burst,
        refilledAt: now,
        lastAck: undefined,
        lastAckPort: 0,
      };
    } else {
      this.#table.delete(address);
      sender.lastSeen = now;
    }
    this.#table.set(address, sender);
    this.#latest = sender;
    return sender;
  }

  /** Takes one reply from `sender`'s bucket; false when it is empty (the reply is suppressed). */
  takeToken(sender: Sender, now: number): boolean {
    // max(0, …): the wall clock may step back; the bucket must not drain for it.
    const elapsed = Math.max(0, now - sender.refilledAt);
    sender.tokens = Math.min(this.#burst, sender.tokens + elapsed * this.#ratePerMs);
    sender.refilledAt = now;
    if (sender.tokens < 1) return false;
    sender.tokens -= 1;
    return true;
  }

  /**
   * At most `limit` senders, those that sent the most datagrams first (the
   * most recently seen first among equals): what a person looking at a
   * flood wants, in a page whose size does not grow with the table.
   */
  toJSON(limit = Number.POSITIVE_INFINITY): SenderJson[] {
    // The table is oldest first; reversed, a stable sort keeps the most recent first among equals.
    const top = [...this.#table.values()]
      .reverse()
      .sort((a, b) => b.datagrams - a.datagrams)
      .slice(0, limit);
    return top.map((s) => ({
      address: s.address,
      datagrams: s.datagrams,
      bytes: s.bytes,
      replies: s.replies,
      suppressed: s.suppressed,
      firstSeen: new Date(s.firstSeen).toISOString(),
      lastSeen: new Date(s.lastSeen).toISOString(),
    }));
  }

  #forgetOldest(): void {
    const oldest = this.#table.keys().next().value;
    if (oldest === undefined) return;
    this.#table.delete(oldest);
    this.#forgotten++;
  }
}
