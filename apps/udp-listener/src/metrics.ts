import { Counter, Gauge, type Registry } from '@netlab/common';

/** Why a datagram was counted but not answered (the `reason` label). */
export const SUPPRESS_REASONS = [
  'source',
  'self',
  'port',
  'loop',
  'empty',
  'queue',
  'rate',
  'shutdown',
] as const;
export type SuppressReason = (typeof SUPPRESS_REASONS)[number];

/** The listener's running totals: plain numbers on the hot path, read by /metrics and /stats. */
export interface Totals {
  datagrams: number;
  bytes: number;
  replies: number;
  replyBytes: number;
  suppressed: Record<SuppressReason, number>;
  replyErrors: number;
  receiveErrors: number;
}

export function newTotals(): Totals {
  return {
    datagrams: 0,
    bytes: 0,
    replies: 0,
    replyBytes: 0,
    suppressed: Object.fromEntries(SUPPRESS_REASONS.map((r) => [r, 0])) as Record<
      SuppressReason,
      number
    >,
    replyErrors: 0,
    receiveErrors: 0,
  };
}

/**
 * Every counter is read from `totals` at scrape time rather than bumped per
 * datagram, so receiving a datagram costs a few additions, not a trip
 * through prom-client (the receive loop is what the benchmark measures).
 */
export function registerMetrics(
  registry: Registry,
  totals: Totals,
  senders: { readonly size: number; readonly forgotten: number },
  kernelDrops: () => Promise<number | undefined>,
): void {
  const fromTotals = (name: string, help: string, read: (t: Totals) => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read(totals));
      },
    });
  fromTotals('netlab_udp_datagrams_received_total', 'UDP datagrams received', (t) => t.datagrams);
  fromTotals('netlab_udp_bytes_received_total', 'Bytes of UDP datagrams received', (t) => t.bytes);
  fromTotals('netlab_udp_replies_sent_total', 'Replies sent (echo or ack)', (t) => t.replies);
  fromTotals('netlab_udp_reply_bytes_sent_total', 'Bytes of replies sent', (t) => t.replyBytes);
  fromTotals(
    'netlab_udp_reply_errors_total',
    'Replies the kernel refused to send',
    (t) => t.replyErrors,
  );
  fromTotals(
    'netlab_udp_receive_errors_total',
    'Errors reported by the receiving socket',
    (t) => t.receiveErrors,
  );
  new Counter({
    name: 'netlab_udp_replies_suppressed_total',
    help: 'Datagrams counted but not answered, by reason: source (a forged source: multicast, broadcast, unspecified or port 0), self (our own address and port), port (a source port in UDP_DENIED_SOURCE_PORTS), loop (our own ack coming back), empty (an ack cut to 0 bytes), queue (UDP_REPLY_QUEUE_MAX replies already waiting), rate (the source address is over UDP_REPLY_RATE_PER_SEC), shutdown (arrived while stopping)',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(totals.suppressed)) this.inc({ reason }, n);
    },
  });
  new Counter({
    name: 'netlab_udp_kernel_drops_total',
    help: 'Datagrams the kernel dropped for this socket before the process saw them, mostly a full receive buffer (the drops column of /proc/net/udp{,6}; Linux only, 0 elsewhere)',
    registers: [registry],
    async collect() {
      const drops = await kernelDrops();
      this.reset();
      if (drops !== undefined) this.inc(drops);
    },
  });
  new Gauge({
    name: 'netlab_udp_senders_tracked',
    help: 'Source addresses in the table behind /stats and the reply rate limit',
    registers: [registry],
    collect() {
      this.set(senders.size);
    },
  });
  new Counter({
    name: 'netlab_udp_senders_forgotten_total',
    help: 'Source addresses dropped from that table (least recently seen first) to make room, UDP_MAX_SENDERS',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(senders.forgotten);
    },
  });
}
