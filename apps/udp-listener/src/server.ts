import type dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { platform } from 'node:os';
import { type Logger, peerAddress, type Registry, type Service } from '@netlab/common';
import { isAnswerable } from './addresses.js';
import type { ListenerConfig } from './config.js';
import { MulticastJoinError } from './errors.js';
import { History } from './history.js';
import { kernelDrops } from './kernel-drops.js';
import { type SelfCheck, selfCheck } from './loop-guard.js';
import { newTotals, registerMetrics, type SuppressReason } from './metrics.js';
import { Outbox } from './outbox.js';
import { preview } from './preview.js';
import { type Sender, Senders } from './senders.js';
import { bindUdp } from './socket.js';

export interface UdpListener extends Service {
  /** Datagrams received since start. */
  readonly received: number;
}

/** `address:port`, with an IPv6 address in brackets (RFC 5952 §6): `[::1]:51557`. */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * The ack line for a datagram of `size` bytes, cut to `size` bytes: an
 * answer is never bigger than its request, so that a forged source gains
 * nothing by aiming us at a victim (no amplification, not even the 2.2×
 * of a 33-byte line for an empty datagram). A datagram shorter than the
 * line gets its start ("ack 5" for 5 bytes); the line is ASCII, so a cut
 * never splits a character.
 */
export function ackLine(size: number, address: string, port: number): Buffer {
  const line = Buffer.from(`ack ${size} bytes from ${hostPort(address, port)}\n`, 'latin1');
  return line.length <= size ? line : line.subarray(0, size);
}

/** Linux reports twice the receive buffer it granted (the doubling pays for its bookkeeping, socket(7)). */
export function grantedRecvBuffer(reported: number, os = platform()): number {
  return os === 'linux' ? reported / 2 : reported;
}

export interface ListenerDeps {
  logger: Logger;
  registry: Registry;
}

/**
 * Receives datagrams on one UDP socket; counts, logs and keeps each; answers
 * it (UDP_REPLY: echo, ack or none) within its sender's reply budget. UDP
 * has no connection and no backpressure: what we cannot read in time the
 * kernel drops, so the receive path does as little as it can, and every
 * reply is optional (rate-limited per source, and skipped when too many are
 * still waiting to go out).
 */
export function createUdpListener(
  config: ListenerConfig,
  { logger, registry }: ListenerDeps,
): UdpListener {
  const mode = config.UDP_REPLY;
  const totals = newTotals();
  const senders = new Senders({
    max: config.UDP_MAX_SENDERS,
    ratePerSec: config.UDP_REPLY_RATE_PER_SEC,
    burst: config.UDP_REPLY_BURST,
  });
  const history = new History(config.UDP_HISTORY_SIZE, config.UDP_PREVIEW_BYTES);
  const outbox = new Outbox(config.UDP_REPLY_QUEUE_MAX);
  const deniedPorts = new Set(config.UDP_DENIED_SOURCE_PORTS);
  const logEach = logger.isLevelEnabled('debug');
  let socket: dgram.Socket | undefined;
  let self: SelfCheck | undefined;
  let recvBufferBytes = 0;
  let closing = false;

  const address = () => (socket?.address() as AddressInfo | undefined) ?? null;
  const drops = async () => {
    const bound = address();
    return bound === null ? undefined : kernelDrops(bound);
  };
  registerMetrics(registry, totals, senders, drops);

  const suppress = (sender: Sender, port: number, reason: SuppressReason) => {
    sender.suppressed++;
    totals.suppressed[reason]++;
    if (logEach) logger.debug({ address: sender.address, port, reason }, 'reply suppressed');
  };

  const replySent = (sender: Sender, bytes: number, err: Error | null) => {
    outbox.done();
    if (err) {
      totals.replyErrors++;
      logger.debug({ err, address: sender.address }, 'reply not sent');
    } else {
      totals.replies++;
      totals.replyBytes += bytes;
      sender.replies++;
    }
  };

  const reply = (data: Buffer, rinfo: dgram.RemoteInfo, sender: Sender, now: number) => {
    const port = rinfo.port;
    if (!isAnswerable(sender.address, port)) return suppress(sender, port, 'source');
    // Loops (CVE-2024-2169): a reply to ourselves, or to a service that
    // answers anything, comes back as the next datagram, for ever.
    if (self!.isSelf(sender.address, port)) return suppress(sender, port, 'self');
    if (deniedPorts.has(port)) return suppress(sender, port, 'port');
    let body = data;
    if (mode === 'ack') {
      // Our own ack coming back from the peer we sent it to: that peer
      // echoes (another listener in echo mode, an echo service), and
      // answering would start the loop again. A client has no reason to
      // send us our line back.
      const last = sender.lastAck;
      if (last !== undefined && sender.lastAckPort === port && last.equals(data)) {
        return suppress(sender, port, 'loop');
      }
      // An ack cut to 0 bytes says nothing, and two listeners could bounce it.
      if (data.length === 0) return suppress(sender, port, 'empty');
      body = ackLine(data.length, sender.address, port);
    }
    // The kernel's send buffer is full when replies wait here: Node would
    // queue every further one in memory, so they are skipped instead (first,
    // so that a skipped reply costs the sender no token).
    if (outbox.full) return suppress(sender, port, 'queue');
    if (!senders.takeToken(sender, now)) return suppress(sender, port, 'rate');
    outbox.start();
    if (mode === 'ack') {
      sender.lastAck = body;
      sender.lastAckPort = port;
    }
    try {
      // rinfo.address, not the unmapped one: a dual-stack socket sends to
      // IPv4 peers through their mapped address.
      socket!.send(body, port, rinfo.address, (err) => replySent(sender, body.length, err));
    } catch (err) {
      // Node throws, rather than calls back, for a destination it will not
      // send to at all; a forged datagram must not take the server down.
      replySent(sender, body.length, err as Error);
    }
  };

  // The last source address as the socket gave it, and as we show it: a
  // flood comes from one sender, so unmapping `::ffff:a.b.c.d` (a regular
  // expression and a new string) is done once per sender change, not once
  // per datagram. Comparing two equal strings costs their length, no allocation.
  let lastRaw = '';
  let lastAddress = '';

  const onMessage = (data: Buffer, rinfo: dgram.RemoteInfo) => {
    const now = Date.now();
    const raw = rinfo.address;
    if (raw !== lastRaw) {
      lastAddress = peerAddress(raw);
      lastRaw = raw;
    }
    const address = lastAddress;
    totals.datagrams++;
    totals.bytes += data.length;
    const sender = senders.see(address, now);
    sender.datagrams++;
    sender.bytes += data.length;
    history.add(now, address, rinfo.port, data);
    if (logEach) {
      logger.debug(
        {
          address,
          port: rinfo.port,
          size: data.length,
          preview: preview(data.subarray(0, config.UDP_PREVIEW_BYTES), data.length),
        },
        'datagram',
      );
    }
    if (mode === 'none') return;
    // Stopping: counted and shown, no longer answered (the socket is about to close).
    if (closing) return suppress(sender, rinfo.port, 'shutdown');
    reply(data, rinfo, sender, now);
  };

  const joinGroups = (s: dgram.Socket) => {
    for (const group of config.UDP_MULTICAST_GROUPS) {
      try {
        s.addMembership(group, config.UDP_MULTICAST_INTERFACE);
      } catch (err) {
        throw new MulticastJoinError(group, err);
      }
    }
  };

  const leaveGroups = (s: dgram.Socket) => {
    for (const group of config.UDP_MULTICAST_GROUPS) {
      try {
        s.dropMembership(group, config.UDP_MULTICAST_INTERFACE);
      } catch (err) {
        // Closing the socket leaves it anyway; say so and go on.
        logger.warn({ err, group }, 'leaving multicast group failed');
      }
    }
    if (config.UDP_MULTICAST_GROUPS.length > 0) {
      logger.info({ groups: config.UDP_MULTICAST_GROUPS }, 'left multicast groups');
    }
  };

  return {
    get received() {
      return totals.datagrams;
    },
    address,
    adminRoutes: {
      '/datagrams': () => ({
        historySize: history.capacity,
        received: totals.datagrams,
        datagrams: history.entries(),
      }),
      '/stats': async () => ({
        listening: {
          ...address(),
          recvBufferBytes,
          recvBufferRequested: config.UDP_RECV_BUFFER_BYTES,
          reply: mode,
        },
        totals: { ...totals, kernelDrops: (await drops()) ?? null },
        senders: {
          tracked: senders.size,
          max: senders.max,
          forgotten: senders.forgotten,
          listed: Math.min(senders.size, config.UDP_STATS_SENDERS),
          list: senders.toJSON(config.UDP_STATS_SENDERS),
        },
      }),
    },
    async listen() {
      const s = await bindUdp(config.HOST, config.PORT);
      try {
        s.setRecvBufferSize(config.UDP_RECV_BUFFER_BYTES);
        joinGroups(s);
      } catch (err) {
        s.close();
        throw err;
      }
      socket = s;
      self = selfCheck(s.address(), { refreshMs: 10_000, now: Date.now });
      s.on('message', onMessage);
      s.on('error', (err) => {
        totals.receiveErrors++;
        logger.warn({ err }, 'receive error');
      });
      // Linux grants at most net.core.rmem_max (SO_RCVBUF is capped even
      // for root) and reports twice what it grants.
      recvBufferBytes = grantedRecvBuffer(s.getRecvBufferSize());
      const fields = {
        reply: mode,
        recvBufferBytes,
        multicastGroups: config.UDP_MULTICAST_GROUPS,
      };
      if (recvBufferBytes < config.UDP_RECV_BUFFER_BYTES) {
        logger.warn(
          { ...fields, requested: config.UDP_RECV_BUFFER_BYTES },
          'receive buffer smaller than UDP_RECV_BUFFER_BYTES: the kernel caps it at net.core.rmem_max (sysctl -w net.core.rmem_max=…)',
        );
      } else {
        logger.info(fields, 'udp socket bound');
      }
    },
    async close({ timeoutMs }) {
      const s = socket;
      if (s === undefined) return;
      // Datagrams still arriving are counted but no longer answered; the
      // replies already handed to the socket get up to timeoutMs to go out.
      closing = true;
      const waiting = outbox.pending;
      if (!(await outbox.idle(timeoutMs))) {
        logger.warn(
          { waiting: outbox.pending, of: waiting },
          'replies still waiting at SHUTDOWN_TIMEOUT_MS: dropped',
        );
      }
      leaveGroups(s);
      await new Promise<void>((resolve) => s.close(() => resolve()));
      socket = undefined;
      logger.info(
        { datagrams: totals.datagrams, bytes: totals.bytes, replies: totals.replies },
        'udp socket closed',
      );
    },
  };
}
