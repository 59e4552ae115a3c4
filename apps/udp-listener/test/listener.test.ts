import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createLogger, createRegistry, loadConfig } from '@netlab/common';
import { LogCapture } from '@netlab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { schema } from '../src/config.js';
import type { DatagramEntry } from '../src/history.js';
import { ackLine, createUdpListener, grantedRecvBuffer } from '../src/server.js';
import { type Client, metricValue, type Started, startListener, udpClient } from './helpers.js';

let server: Started | undefined;
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = undefined;
});

async function client(host?: string): Promise<Client> {
  const c = await udpClient(host);
  clients.push(c);
  return c;
}

interface Stats {
  listening: { address: string; port: number; recvBufferBytes: number; reply: string };
  totals: {
    datagrams: number;
    bytes: number;
    replies: number;
    replyBytes: number;
    replyErrors: number;
    kernelDrops: number | null;
    suppressed: Record<'rate' | 'queue' | 'source' | 'empty', number>;
  };
  senders: {
    tracked: number;
    max: number;
    forgotten: number;
    listed: number;
    list: Array<{ address: string; datagrams: number; replies: number; suppressed: number }>;
  };
}

interface Datagrams {
  historySize: number;
  received: number;
  datagrams: DatagramEntry[];
}

describe('echo (RFC 862)', () => {
  // HOST '::' is the dual-stack socket HOST unset gives, on loopback-reachable ports.
  it.each([
    ['127.0.0.1', [0, 1, 1400, 65_507]],
    // IPv6's largest UDP payload is 65,527 (no IPv4 header to pay for).
    ['::1', [0, 1, 1400, 65_507, 65_527]],
  ] as const)('sends back each datagram from %s byte for byte (sizes %j)', async (host, sizes) => {
    server = await startListener({ HOST: '::' });
    const c = await client(host);
    for (const size of sizes) {
      const payload = randomBytes(size);
      await c.send(payload, server.port);
      const echoed = await c.next();
      expect(echoed.length).toBe(size);
      expect(echoed.equals(payload)).toBe(true);
    }
    expect(await metricValue(server.registry, 'netlab_udp_replies_sent_total')).toBe(sizes.length);
    // The reply-bytes counter is exactly the bytes sent back.
    expect(await metricValue(server.registry, 'netlab_udp_reply_bytes_sent_total')).toBe(
      sizes.reduce((a: number, b) => a + b, 0),
    );
  });

  it('reports an IPv4 sender on the dual-stack socket as 127.0.0.1, and ::1 as ::1', async () => {
    server = await startListener({ HOST: '::' });
    const v4 = await client('127.0.0.1');
    const v6 = await client('::1');
    await v4.send('four', server.port);
    await v4.next();
    await v6.send('six', server.port);
    await v6.next();
    const { datagrams } = await server.admin<Datagrams>('/datagrams');
    expect(datagrams.map((d) => [d.address, d.port])).toEqual([
      ['127.0.0.1', v4.port],
      ['::1', v6.port],
    ]);
    const line = await server.logs.waitFor((l) => l.msg === 'datagram');
    // The debug line carries the preview, as the README shows.
    expect(line).toMatchObject({
      level: 'debug',
      address: '127.0.0.1',
      port: v4.port,
      size: 4,
      preview: { text: 'four', truncated: false },
    });
  });

  it('answers on IPv4 alone when HOST is 127.0.0.1', async () => {
    server = await startListener();
    expect(server.listener.address()).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
    const c = await client();
    await c.send('v4 only', server.port);
    expect(String(await c.next())).toBe('v4 only');
  });
});

describe('reply modes', () => {
  it('ack answers one line with the size and the sender as the server saw it, IPv6 in brackets', async () => {
    server = await startListener({ HOST: '::', UDP_REPLY: 'ack' });
    const payload = 'x'.repeat(64);
    for (const host of ['127.0.0.1', '::1']) {
      const c = await client(host);
      await c.send(payload, server.port);
      const where = host.includes(':') ? `[${host}]:${c.port}` : `${host}:${c.port}`;
      expect(String(await c.next())).toBe(`ack 64 bytes from ${where}\n`);
    }
  });

  it('never answers with more bytes than it received: the ack is cut to the datagram, and an empty one is not answered', async () => {
    server = await startListener({ HOST: '::', UDP_REPLY: 'ack' });
    const c = await client('::1');
    const line = Buffer.from(`ack 40 bytes from [::1]:${c.port}\n`);
    const sizes = [1, 5, 20, line.length - 1, line.length, 40, 1400];
    let answered = 0;
    for (const size of sizes) {
      await c.send(Buffer.alloc(size, 0x2e), server.port);
      const ack = await c.next();
      answered += ack.length;
      const full = `ack ${size} bytes from [::1]:${c.port}\n`;
      expect([size, String(ack)]).toEqual([size, full.slice(0, Math.min(size, full.length))]);
    }
    await c.send(Buffer.alloc(0), server.port);
    await server.received(sizes.length + 1);
    // A probe from elsewhere is answered after the empty datagram was handled.
    const probe = await client('127.0.0.1');
    await probe.send('probe', server.port);
    expect(String(await probe.next())).toBe('ack 5');
    expect(c.queued).toEqual([]);
    const { totals } = await server.admin<Stats>('/stats');
    expect(totals).toMatchObject({ replies: sizes.length + 1, replyBytes: answered + 5 });
    expect(totals.suppressed).toMatchObject({ empty: 1 });
    expect(
      await metricValue(server.registry, 'netlab_udp_replies_suppressed_total', 'reason="empty"'),
    ).toBe(1);
    expect(await metricValue(server.registry, 'netlab_udp_reply_bytes_sent_total')).toBe(
      answered + 5,
    );
  });

  it('none counts and keeps the datagram and sends nothing back', async () => {
    server = await startListener({ UDP_REPLY: 'none' });
    const c = await client();
    await c.send('quiet', server.port);
    await server.received(1);
    // A reply, had there been one, was handed to the kernel before the count
    // above went up; two turns of the event loop let the client read it.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(c.queued).toEqual([]);
    expect(await metricValue(server.registry, 'netlab_udp_replies_sent_total')).toBe(0);
    expect(await metricValue(server.registry, 'netlab_udp_bytes_received_total')).toBe(5);
    const { datagrams } = await server.admin<Datagrams>('/datagrams');
    expect(datagrams[0]).toMatchObject({ size: 5, preview: { text: 'quiet', truncated: false } });
  });
});

describe('reply rate limit (reflection safety)', () => {
  it('answers a source a burst, then counts but suppresses the rest; other sources are still answered', async () => {
    server = await startListener({
      HOST: '::',
      UDP_REPLY_RATE_PER_SEC: '1',
      UDP_REPLY_BURST: '3',
    });
    const flooder = await client('127.0.0.1');
    const started = performance.now();
    for (let i = 0; i < 20; i++) await flooder.send(`n${i}`, server.port);
    await server.received(20);
    const elapsedSec = (performance.now() - started) / 1000;
    const stats = await server.admin<Stats>('/stats');
    const { replies, suppressed } = stats.totals;
    // The bucket holds 3 and refills at 1/s: however slow this machine is,
    // the replies are 3 plus at most what the elapsed time refilled.
    expect(replies).toBeGreaterThanOrEqual(3);
    expect(replies).toBeLessThanOrEqual(3 + Math.ceil(elapsedSec));
    expect(replies + suppressed.rate).toBe(20);
    expect(
      await metricValue(server.registry, 'netlab_udp_replies_suppressed_total', 'reason="rate"'),
    ).toBe(suppressed.rate);
    expect(await metricValue(server.registry, 'netlab_udp_datagrams_received_total')).toBe(20);
    expect(stats.senders.list[0]).toMatchObject({
      address: '127.0.0.1',
      datagrams: 20,
      replies,
      suppressed: suppressed.rate,
    });
    // What the flooder got back is exactly what was counted as sent.
    for (let i = 0; i < replies; i++) await flooder.next();
    expect(flooder.queued).toEqual([]);

    const other = await client('::1');
    await other.send('me too', server.port);
    expect(String(await other.next())).toBe('me too');
  });
});

describe('what arrived (admin /datagrams and /stats)', () => {
  it('/datagrams shows the latest datagrams in arrival order, at most UDP_HISTORY_SIZE', async () => {
    server = await startListener({ UDP_REPLY: 'none', UDP_HISTORY_SIZE: '5' });
    const c = await client();
    for (let i = 1; i <= 8; i++) {
      await c.send(`message ${i}`, server.port);
      await server.received(i);
    }
    const body = await server.admin<Datagrams>('/datagrams');
    expect(body.historySize).toBe(5);
    expect(body.received).toBe(8);
    expect(body.datagrams.map((d) => [d.seq, d.preview])).toEqual(
      [4, 5, 6, 7, 8].map((i) => [i, { text: `message ${i}`, truncated: false }]),
    );
    for (const d of body.datagrams) {
      expect(d).toMatchObject({ address: '127.0.0.1', port: c.port, size: 9 });
      expect(Date.parse(d.time)).not.toBeNaN();
    }
  });

  it('previews binary as hex and cuts long datagrams at UDP_PREVIEW_BYTES', async () => {
    server = await startListener({ UDP_REPLY: 'none', UDP_PREVIEW_BYTES: '4' });
    const c = await client();
    await c.send(Buffer.from([0x00, 0xff, 0x1b, 0x5b, 0x32, 0x4a]), server.port);
    await c.send('a long line of text', server.port);
    await server.received(2);
    const { datagrams } = await server.admin<Datagrams>('/datagrams');
    expect(datagrams.map((d) => d.preview)).toEqual([
      { hex: '00ff1b5b', truncated: true },
      { text: 'a lo', truncated: true },
    ]);
  });

  it('keeps no history when UDP_HISTORY_SIZE is 0, and still counts', async () => {
    server = await startListener({ UDP_REPLY: 'none', UDP_HISTORY_SIZE: '0' });
    const c = await client();
    await c.send('x', server.port);
    await server.received(1);
    expect(await server.admin<Datagrams>('/datagrams')).toEqual({
      historySize: 0,
      received: 1,
      datagrams: [],
    });
  });

  it('/stats tracks at most UDP_MAX_SENDERS addresses, forgetting the least recently seen', async () => {
    server = await startListener({ HOST: '::', UDP_REPLY: 'none', UDP_MAX_SENDERS: '2' });
    let n = 0;
    for (const host of ['127.0.0.1', '::1', '127.0.0.1', '127.0.0.2']) {
      const c = await client(host);
      await c.send(`from ${host}`, server.port);
      await server.received(++n);
    }
    const stats = await server.admin<Stats>('/stats');
    expect(stats.senders).toMatchObject({ tracked: 2, max: 2, forgotten: 1 });
    // ::1 was seen less recently than 127.0.0.1's second datagram: it went.
    expect(stats.senders.list.map((s) => [s.address, s.datagrams])).toEqual([
      ['127.0.0.1', 2],
      ['127.0.0.2', 1],
    ]);
    expect(stats.totals).toMatchObject({ datagrams: 4 });
    expect(await metricValue(server.registry, 'netlab_udp_senders_forgotten_total')).toBe(1);
    expect(await metricValue(server.registry, 'netlab_udp_senders_tracked')).toBe(2);
  });

  it('/stats says where it listens', async () => {
    server = await startListener({ UDP_REPLY: 'ack' });
    const { listening } = await server.admin<Stats>('/stats');
    expect(listening).toMatchObject({ address: '127.0.0.1', port: server.port, reply: 'ack' });
  });

  it('/stats lists the UDP_STATS_SENDERS senders that sent the most, and counts them all', async () => {
    // HOST '::': a client on 127.0.0.2 sends to 127.0.0.2, which a socket on 127.0.0.1 would not get.
    server = await startListener({ HOST: '::', UDP_REPLY: 'none', UDP_STATS_SENDERS: '2' });
    let n = 0;
    for (const [host, count] of [
      ['127.0.0.1', 3],
      ['127.0.0.2', 1],
      ['127.0.0.3', 2],
    ] as const) {
      const c = await client(host);
      for (let i = 0; i < count; i++) await c.send('x', server.port);
      n += count;
      await server.received(n);
    }
    const stats = await server.admin<Stats>('/stats');
    expect(stats.senders).toMatchObject({ tracked: 3, listed: 2 });
    expect(stats.senders.list.map((s) => [s.address, s.datagrams])).toEqual([
      ['127.0.0.1', 3],
      ['127.0.0.3', 2],
    ]);
    expect(stats.totals.datagrams).toBe(6);
  });

  it('/stats lists 100 senders by default, however many it tracks', async () => {
    server = await startListener({ HOST: '::', UDP_REPLY: 'none' });
    const senders = 101;
    for (let i = 1; i <= senders; i++) {
      const c = await client(`127.0.1.${i}`);
      await c.send('x', server.port);
      c.close();
      clients.pop();
    }
    await server.received(senders);
    const stats = await server.admin<Stats>('/stats');
    expect(stats.senders).toMatchObject({ tracked: senders, listed: 100 });
    expect(stats.senders.list).toHaveLength(100);
  });
});

/** What Linux grants at most (SO_RCVBUF is capped here even for root). */
const RMEM_MAX = (() => {
  try {
    return Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
  } catch {
    return undefined;
  }
})();

describe.runIf(RMEM_MAX !== undefined)('the receive buffer (Linux)', () => {
  it('is the size asked for, as granted (Linux reports twice that)', async () => {
    // Neither the host's default (rmem_default) nor its cap: a size only UDP_RECV_BUFFER_BYTES gives.
    const rmemDefault = Number(readFileSync('/proc/sys/net/core/rmem_default', 'utf8'));
    let asked = Math.max(65_536, Math.floor(RMEM_MAX! / 2 / 4096) * 4096 - 4096);
    if (asked === rmemDefault) asked += 4096;
    server = await startListener({ UDP_RECV_BUFFER_BYTES: String(asked) });
    const { listening } = await server.admin<
      Stats & { listening: { recvBufferRequested: number } }
    >('/stats');
    expect(listening).toMatchObject({ recvBufferBytes: asked, recvBufferRequested: asked });
    const bound = await server.logs.waitFor((l) => l.msg === 'udp socket bound');
    expect(bound).toMatchObject({ level: 'info', recvBufferBytes: asked });
    expect(server.logs.find((l) => l.level === 'warn')).toEqual([]);
  });

  it('warns, and shows what was granted, when the kernel caps it at net.core.rmem_max', async () => {
    const asked = Math.min(2 * RMEM_MAX!, 1024 * 1024 * 1024);
    server = await startListener({ UDP_RECV_BUFFER_BYTES: String(asked) });
    const { listening } = await server.admin<Stats>('/stats');
    expect(listening.recvBufferBytes).toBe(RMEM_MAX);
    const warning = server.logs.find((l) => l.level === 'warn');
    expect(warning).toHaveLength(1);
    expect(warning[0]).toMatchObject({ requested: asked, recvBufferBytes: RMEM_MAX });
  });
});

describe('under load', () => {
  it('counts every one of 10,000 datagrams sent as fast as it takes them in', async () => {
    server = await startListener({ UDP_REPLY: 'none', UDP_HISTORY_SIZE: '10' });
    const c = await client();
    const total = 10_000;
    const window = 200;
    let bytes = 0;
    // Paced by the server, not by a clock: at most `window` datagrams are in
    // flight (far below the receive buffer), so none may be lost, however
    // loaded the machine.
    for (let sent = 0; sent < total; ) {
      const batch: Promise<void>[] = [];
      for (const end = sent + window; sent < end; sent++) {
        const payload = `datagram ${sent + 1} `.padEnd(512, '.');
        bytes += payload.length;
        batch.push(c.send(payload, server.port));
      }
      await Promise.all(batch);
      await server.received(sent);
    }
    expect(server.listener.received).toBe(total);
    expect(await metricValue(server.registry, 'netlab_udp_bytes_received_total')).toBe(bytes);
    const { datagrams } = await server.admin<Datagrams>('/datagrams');
    expect(datagrams.map((d) => d.seq)).toEqual(
      Array.from({ length: 10 }, (_, i) => total - 9 + i),
    );
    expect(datagrams.at(-1)!.preview).toMatchObject({
      text: expect.stringMatching(/^datagram 10000 \.+$/),
    });
  });
});

describe.skipIf(process.getuid?.() !== 0)('forged datagrams (a raw socket needs root)', () => {
  it('does not answer a datagram from source port 0 (forged), and answers everyone else', async () => {
    server = await startListener();
    // A UDP header by hand: source port 0, which no socket can send from
    // and Node refuses to send to. Checksum 0 means "none" over IPv4.
    const header = Buffer.alloc(8);
    header.writeUInt16BE(server.port, 2);
    header.writeUInt16BE(8 + 4, 4);
    const socat = spawn('socat', ['-u', '-', 'IP4-SENDTO:127.0.0.1:17'], { stdio: 'pipe' });
    socat.stdin.end(Buffer.concat([header, Buffer.from('boom')]));
    expect((await once(socat, 'exit'))[0]).toBe(0);
    await server.received(1);
    expect(
      await metricValue(server.registry, 'netlab_udp_replies_suppressed_total', 'reason="source"'),
    ).toBe(1);
    const { datagrams } = await server.admin<Datagrams>('/datagrams');
    expect(datagrams[0]).toMatchObject({ address: '127.0.0.1', port: 0, size: 4 });
    const c = await client();
    await c.send('still here', server.port);
    expect(String(await c.next())).toBe('still here');
  });
});

describe('the pieces of a reply', () => {
  it('an ack exactly as long as the datagram is sent whole, one byte shorter is cut', () => {
    const full = 'ack 33 bytes from 127.0.0.1:5000\n';
    expect(full.length).toBe(33);
    expect(ackLine(33, '127.0.0.1', 5000).toString()).toBe(full);
    expect(ackLine(32, '127.0.0.1', 5000).toString()).toBe('ack 32 bytes from 127.0.0.1:5000');
    expect(ackLine(100, '::1', 7).toString()).toBe('ack 100 bytes from [::1]:7\n');
  });

  it('halves the receive buffer Linux reports, and only on Linux', () => {
    expect(grantedRecvBuffer(2000, 'linux')).toBe(1000);
    expect(grantedRecvBuffer(2000, 'darwin')).toBe(2000);
  });
});

describe('multicast (UDP_MULTICAST_GROUPS), in-process', () => {
  it('receives what is sent to a group it joined, and leaves it at close', async () => {
    const group = `239.255.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
    // HOST unset: a socket bound to 127.0.0.1 would not see datagrams sent to the group.
    server = await startListener({
      UDP_MULTICAST_GROUPS: group,
      UDP_MULTICAST_INTERFACE: '127.0.0.1',
      UDP_REPLY: 'none',
      HOST: '',
    });
    const sender = await client();
    sender.socket.setMulticastInterface('127.0.0.1');
    await new Promise((resolve) =>
      sender.socket.send('to the group', server!.port, group, resolve),
    );
    await server.received(1);
    const { datagrams } = await server.admin<Datagrams>('/datagrams');
    expect(datagrams[0]).toMatchObject({ address: '127.0.0.1', preview: { text: 'to the group' } });
    const logs = server.logs;
    await server.close();
    server = undefined;
    expect(logs.find((l) => l.msg === 'left multicast groups')).toHaveLength(1);
    expect(logs.find((l) => l.msg === 'left multicast groups')[0]).toMatchObject({
      level: 'info',
      groups: [group],
    });
  });

  it('refuses to listen with NETLAB_ERR_MULTICAST_JOIN when a group cannot be joined', async () => {
    const listening = startListener({
      UDP_MULTICAST_GROUPS: '239.1.2.3',
      UDP_MULTICAST_INTERFACE: '192.0.2.254', // not an address of this machine
    });
    const err = await listening.then(
      () => undefined,
      (e: Error & { code?: string; cause?: { code?: string } }) => e,
    );
    // The kernel's reason is ENODEV on Linux; the message carries it, whatever it is.
    const why = err?.cause?.code;
    expect(why).toMatch(/^E[A-Z]+$/);
    expect([err?.name, err?.code, err?.message]).toEqual([
      'MulticastJoinError',
      'NETLAB_ERR_MULTICAST_JOIN',
      `cannot join multicast group 239.1.2.3 (${why})`,
    ]);
  });
});

describe('ack loop guard', () => {
  it('answers our ack line sent back from another port of the same address: only the port we acked is a loop', async () => {
    server = await startListener({ UDP_REPLY: 'ack' });
    const a = await client();
    const b = await client();
    await a.send('x'.repeat(60), server.port);
    const line = await a.next();
    expect(line.toString()).toBe(`ack 60 bytes from 127.0.0.1:${a.port}\n`);
    await b.send(line, server.port);
    expect((await b.next()).toString()).toMatch(
      new RegExp(`^ack ${line.length} bytes from 127\\.0\\.0\\.1:`),
    );
  });
});

describe('close', () => {
  it('closes the socket once, logs what it counted, and a second close does nothing', async () => {
    const s = await startListener();
    const c = await client();
    await c.send('hello', s.port);
    await c.send('abc', s.port);
    await c.next();
    await c.next();
    const stats = await s.admin<Stats>('/stats');
    expect(stats.senders.list[0]).toMatchObject({ datagrams: 2, bytes: 8 });
    await s.close();
    expect(s.listener.address()).toBeNull();
    const closed = s.logs.find((l) => l.msg === 'udp socket closed');
    expect(closed).toHaveLength(1);
    expect(closed[0]).toMatchObject({ level: 'info', datagrams: 2, bytes: 8, replies: 2 });
    // Nothing was waiting and no group was joined: neither is said.
    expect(s.logs.find((l) => l.level === 'warn')).toEqual([]);
    expect(s.logs.find((l) => l.msg === 'left multicast groups')).toEqual([]);
    await s.listener.close({ timeoutMs: 0 });
    expect(s.logs.find((l) => l.msg === 'udp socket closed')).toHaveLength(1);
  });

  it('does nothing before listen', async () => {
    const logs = new LogCapture();
    const logger = createLogger({
      service: 'udp-listener',
      version: 'test',
      level: 'debug',
      destination: logs,
    });
    const listener = createUdpListener(loadConfig(schema, { PORT: '0' }), {
      logger,
      registry: createRegistry('udp-listener', { defaultMetrics: false }),
    });
    await listener.close({ timeoutMs: 0 });
    expect(logs.lines).toEqual([]);
  });
});
