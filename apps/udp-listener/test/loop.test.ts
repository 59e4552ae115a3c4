import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kernelDrops, procAddress } from '../src/kernel-drops.js';
import { DEFAULT_DENIED_SOURCE_PORTS, localAddresses, selfCheck } from '../src/loop-guard.js';
import {
  type Client,
  forgeUdp4,
  isRoot,
  metricValue,
  type Started,
  startListener,
  udpClient,
} from './helpers.js';

const servers: Started[] = [];
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close();
});

async function listener(env: Record<string, string> = {}): Promise<Started> {
  const s = await startListener(env);
  servers.push(s);
  return s;
}

async function client(host?: string): Promise<Client> {
  const c = await udpClient(host);
  clients.push(c);
  return c;
}

interface Totals {
  datagrams: number;
  replies: number;
  kernelDrops: number | null;
  suppressed: Record<string, number>;
}
const totals = async (s: Started) => (await s.admin<{ totals: Totals }>('/stats')).totals;

/** A datagram from a client is answered: everything the listener did before it is done. */
async function answered(s: Started, c: Client, text = 'probe'): Promise<void> {
  await c.send(text, s.port);
  await c.next();
}

describe('source ports never answered (UDP_DENIED_SOURCE_PORTS)', () => {
  it('by default, the ports of services that answer anything (CVE-2024-2169)', () => {
    for (const port of [7, 9, 13, 17, 19, 37, 53, 123, 137, 138, 161, 162, 1900, 5353, 11211]) {
      expect(DEFAULT_DENIED_SOURCE_PORTS).toContain(port);
    }
  });

  it('counts a datagram from a denied port as port, answers nothing, and answers other ports', async () => {
    // A high port stands in for a well-known one, which only root may bind.
    const denied = await client();
    const s = await listener({ UDP_DENIED_SOURCE_PORTS: `7,${denied.port}` });
    await denied.send('from a denied port', s.port);
    await s.received(1);
    const other = await client();
    await answered(s, other, 'from anywhere else');
    expect(denied.queued).toEqual([]);
    expect(await totals(s)).toMatchObject({ datagrams: 2, replies: 1, suppressed: { port: 1 } });
    expect(
      await metricValue(s.registry, 'netlab_udp_replies_suppressed_total', 'reason="port"'),
    ).toBe(1);
    const line = await s.logs.waitFor((l) => l.msg === 'reply suppressed');
    expect(line).toMatchObject({ level: 'debug', reason: 'port', port: denied.port });
  });

  it('none answers every port', async () => {
    const c = await client();
    const s = await listener({ UDP_DENIED_SOURCE_PORTS: 'none' });
    await answered(s, c);
    expect((await totals(s)).suppressed.port).toBe(0);
  });
});

describe('our own address and port', () => {
  it('is ours bound to one address only at that address and port', () => {
    const self = selfCheck({ address: '127.0.0.1', port: 5000 }, { refreshMs: 0, now: () => 0 });
    expect(self.isSelf('127.0.0.1', 5000)).toBe(true);
    expect(self.isSelf('127.0.0.1', 5001)).toBe(false);
    expect(self.isSelf('127.0.0.2', 5000)).toBe(false);
    expect(self.isSelf('::1', 5000)).toBe(false);
  });

  it('is the IPv4 address when bound to it through its mapped form', () => {
    const self = selfCheck(
      { address: '::ffff:127.0.0.2', port: 5000 },
      { refreshMs: 0, now: () => 0 },
    );
    expect(self.isSelf('127.0.0.2', 5000)).toBe(true);
    expect(self.isSelf('127.0.0.1', 5000)).toBe(false);
  });

  it.each(['::', '0.0.0.0'])(
    'is every address of this machine at our port when bound to %s',
    (any) => {
      const self = selfCheck({ address: any, port: 5000 }, { refreshMs: 10_000, now: () => 0 });
      const mine = [...localAddresses()];
      expect(mine).toContain('127.0.0.1');
      for (const address of [...mine, '::1', '127.0.0.1', '127.9.9.9']) {
        expect([address, self.isSelf(address, 5000)]).toEqual([address, true]);
        expect([address, self.isSelf(address, 5001)]).toEqual([address, false]);
      }
      expect(self.isSelf('192.0.2.1', 5000)).toBe(false);
      expect(self.isSelf('2001:db8::1', 5000)).toBe(false);
    },
  );
});

describe.skipIf(!isRoot)('loops, started by a forged datagram (a raw socket needs root)', () => {
  it.each([
    ['127.0.0.1', 'echo'],
    ['::', 'echo'],
    ['127.0.0.1', 'ack'],
  ])(
    'bound to %s in %s mode, a datagram from its own address and port is counted once, never answered',
    async (host, mode) => {
      const s = await listener({ HOST: host, UDP_REPLY: mode });
      await forgeUdp4(s.port, s.port, Buffer.from('loop me'));
      await s.received(1);
      await answered(s, await client(), 'x'.repeat(64));
      // Answered, it would have been the next datagram, and so on.
      expect(await totals(s)).toMatchObject({
        datagrams: 2,
        replies: 1,
        suppressed: { self: 1 },
      });
      expect(
        await metricValue(s.registry, 'netlab_udp_replies_suppressed_total', 'reason="self"'),
      ).toBe(1);
    },
  );

  it('an ack coming back from an echo listener is not answered: one bounce each, not 101', async () => {
    const echo = await listener({ UDP_REPLY: 'echo' });
    const ack = await listener({ UDP_REPLY: 'ack' });
    // "From the echo listener" to the ack listener: it acks to the echo
    // listener, which echoes the ack back.
    await forgeUdp4(echo.port, ack.port, Buffer.alloc(64, 0x2e));
    await ack.received(2);
    const c = await client();
    await answered(echo, c);
    await answered(ack, c, 'x'.repeat(64));
    expect(await totals(echo)).toMatchObject({ datagrams: 2, replies: 2 });
    expect(await totals(ack)).toMatchObject({ datagrams: 3, replies: 2, suppressed: { loop: 1 } });
    expect(
      await metricValue(ack.registry, 'netlab_udp_replies_suppressed_total', 'reason="loop"'),
    ).toBe(1);
  });

  it('started on the echo side, it stops at the ack listener too: two echoes, one ack', async () => {
    const echo = await listener({ UDP_REPLY: 'echo' });
    const ack = await listener({ UDP_REPLY: 'ack' });
    await forgeUdp4(ack.port, echo.port, Buffer.alloc(64, 0x2e));
    await ack.received(2);
    const c = await client();
    await answered(echo, c);
    await answered(ack, c, 'x'.repeat(64));
    expect(await totals(echo)).toMatchObject({ datagrams: 3, replies: 3 });
    expect(await totals(ack)).toMatchObject({ datagrams: 3, replies: 2, suppressed: { loop: 1 } });
  });

  it('the ack of a short datagram, cut to its size, is not answered either when it comes back', async () => {
    const echo = await listener({ UDP_REPLY: 'echo' });
    const ack = await listener({ UDP_REPLY: 'ack' });
    await forgeUdp4(echo.port, ack.port, Buffer.from('x'));
    await ack.received(2);
    await answered(echo, await client());
    expect(await totals(echo)).toMatchObject({ datagrams: 2, replies: 2 });
    expect(await totals(ack)).toMatchObject({ datagrams: 2, replies: 1, suppressed: { loop: 1 } });
  });
});

describe('datagrams the kernel dropped (Linux /proc/net/udp drops)', () => {
  it('formats addresses as /proc/net/udp and udp6 print them', () => {
    expect(procAddress('127.0.0.1', false)).toBe('0100007F');
    expect(procAddress('::', true)).toBe('0'.repeat(32));
    expect(procAddress('::1', true)).toBe(`${'0'.repeat(24)}01000000`);
    expect(procAddress('::ffff:127.0.0.1', true)).toBe(`${'0'.repeat(16)}FFFF00000100007F`);
    expect(procAddress('2001:db8::1%lo', true)).toBe(`B80D0120${'0'.repeat(16)}01000000`);
    expect(procAddress('2001:db8:0:0:0:0:0:1', true)).toBe(`B80D0120${'0'.repeat(16)}01000000`);
    // Every octet of the IPv4 tail has two digits: each is read whole.
    expect(procAddress('::ffff:10.20.30.40', true)).toBe(`${'0'.repeat(16)}FFFF0000281E140A`);
  });

  it('reads the drops column of the line for our address and port, and only that line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netlab-proc-'));
    try {
      const line = (local: string, drops: string) =>
        `  42: ${local} 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 12345 2 0000000000000000 ${drops}`;
      writeFileSync(
        join(dir, 'udp'),
        [
          '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
          line('0100007F:1F91', '5'),
          line('0100007F:1F90', '7'),
          '',
        ].join('\n'),
      );
      const bound = { address: '127.0.0.1', port: 8080, family: 'IPv4' };
      expect(await kernelDrops(bound, dir)).toBe(7);
      expect(await kernelDrops({ ...bound, port: 8082 }, dir)).toBeUndefined();
      expect(await kernelDrops({ ...bound, family: 'IPv6', address: '::1' }, dir)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.runIf(process.platform === 'linux').each(['127.0.0.1', '::1'])(
    'counts what a full receive buffer dropped, for this socket only (HOST %s)',
    async (host) => {
      const small = { HOST: host, UDP_REPLY: 'none', UDP_RECV_BUFFER_BYTES: '65536' };
      const flooded = await listener(small);
      // Over IPv4, the quiet one has the same port on another address: the
      // flooded socket is told apart by its address too.
      const quiet = await listener(
        host === '127.0.0.1' ? { ...small, HOST: '127.0.0.2', PORT: String(flooded.port) } : small,
      );
      const sent = 300;
      // spawnSync blocks this process, listeners included, while a child
      // sends: what does not fit in the receive buffer is dropped.
      const child = spawnSync(
        process.execPath,
        [
          '-e',
          `const s = require('node:dgram').createSocket('${host.includes(':') ? 'udp6' : 'udp4'}');
           let n = 0;
           const next = () => (n++ < ${sent} ? s.send(Buffer.alloc(1000), ${flooded.port}, '${host}', next) : s.close());
           next();`,
        ],
        { timeout: 10_000 },
      );
      expect(child.status).toBe(0);
      // Every datagram was either counted or dropped by the kernel.
      let t = await totals(flooded);
      const deadline = Date.now() + 10_000;
      while (t.datagrams + (t.kernelDrops ?? 0) < sent && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        t = await totals(flooded);
      }
      expect(t.kernelDrops).toBeGreaterThan(0);
      expect(t.datagrams + t.kernelDrops!).toBe(sent);
      expect(await metricValue(flooded.registry, 'netlab_udp_kernel_drops_total')).toBe(
        t.kernelDrops,
      );
      expect((await totals(quiet)).kernelDrops).toBe(0);
    },
  );

  it('is undefined where the kernel does not say (no such file, or no such socket)', async () => {
    const bound = { address: '127.0.0.1', port: 1, family: 'IPv4' };
    expect(await kernelDrops(bound, '/nonexistent')).toBeUndefined();
    // Port 1 on 127.0.0.1 is bound by nobody here.
    if (process.platform === 'linux') expect(await kernelDrops(bound)).toBeUndefined();
  });
});
