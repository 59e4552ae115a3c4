import type dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { type Logger, peerAddress, type Registry, type Service } from '@netlab/common';
import { isAnswerable } from './addresses.js';
import type { ListenerConfig } from './config.js';
import { MulticastJoinError } from './errors.js';
import { History } from './history.js';
import { newTotals, registerMetrics, type SuppressReason } from './metrics.js';
import { preview } from './preview.js';
import { type Sender, Senders } from './senders.js';
import { bindUdp } from './socket.js';

export interface UdpListener extends Service {
  /** Datagrams received since start. */
  readonly received: number;
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
  registerMetrics(registry, totals, senders);
  const logEach = logger.isLevelEnabled('debug');
  let socket: dgram.Socket | undefined;
  let recvBufferBytes = 0;
  let closing = false;
  let pending = 0;
  let onIdle: (() => void) | undefined;

  const suppress = (sender: Sender, reason: SuppressReason) => {
    sender.suppressed++;
    totals.suppressed[reason]++;
  };

  const replySent = (sender: Sender, bytes: number, err: Error | null) => {
    pending--;
    if (err) {
      totals.replyErrors++;
      logger.debug({ err, address: sender.address }, 'reply not sent');
    } else {
      totals.replies++;
      totals.replyBytes += bytes;
      sender.replies++;
    }
    if (pending === 0) onIdle?.();
  };

  const reply = (data: Buffer, rinfo: dgram.RemoteInfo, sender: Sender, now: number) => {
    if (!isAnswerable(sender.address, rinfo.port)) return suppress(sender, 'source');
    // The kernel's send buffer is full when replies wait here: Node would
    // queue every further one in memory, so they are skipped instead (first,
    // so that a skipped reply costs the sender no token).
    if (pending >= config.UDP_REPLY_QUEUE_MAX) return suppress(sender, 'queue');
    if (!senders.takeToken(sender, now)) return suppress(sender, 'rate');
    const body =
      mode === 'echo'
        ? data
        : Buffer.from(`ack ${data.length} bytes from ${sender.address}:${rinfo.port}\n`);
    pending++;
    try {
      // rinfo.address, not the unmapped one: a dual-stack socket sends to
      // IPv4 peers through their mapped address.
      socket!.send(body, rinfo.port, rinfo.address, (err) => replySent(sender, body.length, err));
    } catch (err) {
      // Node throws, rather than calls back, for a destination it will not
      // send to at all; a forged datagram must not take the server down.
      replySent(sender, body.length, err as Error);
    }
  };

  const onMessage = (data: Buffer, rinfo: dgram.RemoteInfo) => {
    const now = Date.now();
    const address = peerAddress(rinfo.address);
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
    if (mode !== 'none' && !closing) reply(data, rinfo, sender, now);
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

  const address = () => (socket?.address() as AddressInfo | undefined) ?? null;

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
      '/stats': () => ({
        listening: { ...address(), recvBufferBytes, reply: mode },
        totals,
        senders: {
          tracked: senders.size,
          max: senders.max,
          forgotten: senders.forgotten,
          list: senders.toJSON(),
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
      s.on('message', onMessage);
      s.on('error', (err) => {
        totals.receiveErrors++;
        logger.warn({ err }, 'receive error');
      });
      // Linux grants at most net.core.rmem_max and reports twice what it
      // grants (the doubling pays for its bookkeeping, socket(7)).
      recvBufferBytes = s.getRecvBufferSize();
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
      if (pending > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeoutMs);
          onIdle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      leaveGroups(s);
      await new Promise<void>((resolve) => s.close(() => resolve()));
      logger.info(
        { datagrams: totals.datagrams, bytes: totals.bytes, replies: totals.replies },
        'udp socket closed',
      );
    },
  };
}
