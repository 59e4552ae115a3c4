import dgram from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';
import dnsPacket, { type Packet } from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { checkName } from '../src/name.js';
import { DnsClient, rcodeOf, serverAddress } from '../src/wire.js';
import { startSilentDns } from './fixture-dns.js';

// The stub resolver's transport on its own (src/wire.ts), against a
// scripted server on loopback: UDP and TCP on one port, answering each
// query with whatever bytes a test gives it, forgeries included.

const QR = 0x8000;
const AA = 0x0400;
const TC = 0x0200;

type Script = (query: Packet) => Buffer[];

interface Scripted {
  server: string;
  udp: Script;
  tcp: Script;
  /** How the TCP answer is written: whole, or cut into pieces (a stream has no message boundaries). */
  tcpChunks: (framed: Buffer) => Buffer[];
  udpQueries: number;
  tcpQueries: number;
  close(): Promise<void>;
}

const open: Scripted[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

/** UDP and TCP on one free loopback port. */
async function scripted(): Promise<Scripted> {
  for (;;) {
    const udp = dgram.createSocket('udp4');
    udp.bind(0, '127.0.0.1');
    await once(udp, 'listening');
    const port = udp.address().port;
    const tcp = net.createServer();
    const bound = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!bound) {
      udp.close();
      continue;
    }
    const s: Scripted = {
      server: `127.0.0.1:${port}`,
      udp: () => [],
      tcp: () => [],
      tcpChunks: (framed) => [framed],
      udpQueries: 0,
      tcpQueries: 0,
      close: async () => {
        udp.close();
        await new Promise((resolve) => tcp.close(resolve));
      },
    };
    udp.on('message', (msg, rinfo) => {
      s.udpQueries++;
      for (const reply of s.udp(dnsPacket.decode(msg))) udp.send(reply, rinfo.port, rinfo.address);
    });
    tcp.on('connection', (socket) => {
      socket.on('error', () => {});
      let got = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        got = Buffer.concat([got, chunk]);
        if (got.length < 2 || got.length < 2 + got.readUInt16BE(0)) return;
        s.tcpQueries++;
        for (const reply of s.tcp(dnsPacket.decode(got.subarray(2)))) {
          const framed = Buffer.alloc(2 + reply.length);
          framed.writeUInt16BE(reply.length, 0);
          reply.copy(framed, 2);
          for (const piece of s.tcpChunks(framed)) socket.write(piece);
        }
      });
    });
    open.push(s);
    return s;
  }
}

/** A response to `query`, with its question unless `question` replaces it. */
function reply(
  query: Packet,
  opts: {
    flags?: number;
    id?: number;
    question?: Partial<NonNullable<Packet['questions']>[0]>;
    data?: string;
  } = {},
): Buffer {
  const q = { ...query.questions![0]!, ...opts.question } as NonNullable<Packet['questions']>[0];
  return dnsPacket.encode({
    id: opts.id ?? query.id,
    type: 'response',
    flags: opts.flags ?? AA,
    questions: [q],
    answers:
      q.type === 'A' ? [{ name: q.name, type: 'A', ttl: 60, data: opts.data ?? '192.0.2.1' }] : [],
  });
}

/** The same bytes with the QR bit cleared: a query, not a response. */
function asQuery(packet: Buffer): Buffer {
  const out = Buffer.from(packet);
  out.writeUInt16BE(out.readUInt16BE(2) & ~QR, 2);
  return out;
}

const client = (opts: Partial<ConstructorParameters<typeof DnsClient>[0]> = {}) =>
  new DnsClient({ timeoutMs: 2000, tries: 1, maxInFlight: 10, ...opts });

const firstA = (got: Awaited<ReturnType<DnsClient['query']>>) =>
  got.kind === 'response'
    ? (got.packet.answers?.[0] as { data?: string } | undefined)?.data
    : got.kind;

describe('what counts as the answer (RFC 5452 §9.1)', () => {
  it('ignores a packet that is not a response, or answers another type or class, and takes the real one', async () => {
    const s = await scripted();
    s.udp = (query) => [
      asQuery(reply(query, { data: '203.0.113.1' })),
      reply(query, { question: { type: 'AAAA' }, data: '203.0.113.2' }),
      reply(query, { question: { class: 'CH' }, data: '203.0.113.3' }),
      reply(query, { id: (query.id! + 1) & 0xffff, data: '203.0.113.4' }),
      reply(query),
    ];
    const c = client();
    const got = await c.query([serverAddress(s.server)], 'forged.test', 'A');
    expect(firstA(got)).toBe('192.0.2.1');
    expect(c.mismatched).toBe(4);
  });

  it('compares the question without case (a server may echo it in mixed case, RFC 4343)', async () => {
    const s = await scripted();
    s.udp = (query) => [reply(query, { question: { name: 'MiXeD.NetLab.TEST' } })];
    const c = client();
    expect(firstA(await c.query([serverAddress(s.server)], 'mixed.netlab.test', 'A'))).toBe(
      '192.0.2.1',
    );
    expect(c.mismatched).toBe(0);
  });

  it('asks about the root as `.` and takes the answer (dig . NS)', async () => {
    const s = await scripted();
    s.udp = (query) => [reply(query)];
    const name = checkName('.');
    expect(name).toEqual({ ok: true, name: '.' });
    const got = await client().query([serverAddress(s.server)], '.', 'NS');
    expect(got.kind).toBe('response');
  });
});

describe('over TCP (RFC 7766)', () => {
  it('asks again over TCP when the UDP answer is truncated, and takes the whole answer', async () => {
    const s = await scripted();
    s.udp = (query) => [reply(query, { flags: AA | TC, data: '203.0.113.9' })];
    s.tcp = (query) => [reply(query)];
    const got = await client().query([serverAddress(s.server)], 'big.test', 'A');
    expect(firstA(got)).toBe('192.0.2.1');
    expect([s.udpQueries, s.tcpQueries]).toEqual([1, 1]);
  });

  it.each([
    ['whole', (framed: Buffer) => [framed]],
    ['one byte, then the rest', (framed: Buffer) => [framed.subarray(0, 1), framed.subarray(1)]],
    [
      'the length, then the message in two',
      (framed: Buffer) => [framed.subarray(0, 2), framed.subarray(2, 10), framed.subarray(10)],
    ],
  ])('reads a TCP answer written %s', async (_, chunks) => {
    const s = await scripted();
    s.udp = (query) => [reply(query, { flags: AA | TC })];
    s.tcp = (query) => [reply(query)];
    s.tcpChunks = chunks;
    const started = performance.now();
    expect(
      firstA(await client({ timeoutMs: 5000 }).query([serverAddress(s.server)], 'split.test', 'A')),
    ).toBe('192.0.2.1');
    // Not at the timeout: the answer was complete when its last byte came.
    expect(performance.now() - started).toBeLessThan(4000);
  });

  it('a TCP answer that does not match ends the try at once as unreachable, not at the timeout', async () => {
    const s = await scripted();
    s.udp = (query) => [reply(query, { flags: AA | TC })];
    s.tcp = (query) => [reply(query, { id: (query.id! + 1) & 0xffff })];
    const started = performance.now();
    const got = await client({ timeoutMs: 5000 }).query(
      [serverAddress(s.server)],
      'wrong.test',
      'A',
    );
    expect(got).toEqual({
      kind: 'unreachable',
      detail: `a TCP answer from ${s.server} did not match`,
    });
    expect(performance.now() - started).toBeLessThan(4000);
  });
});

describe('which server answers', () => {
  it('NXDOMAIN is an answer: the next server is not asked', async () => {
    const s = await scripted();
    const silent = await startSilentDns();
    try {
      s.udp = (query) => [reply(query, { flags: AA | 3 })];
      const got = await client().query(
        [serverAddress(s.server), serverAddress(silent.server)],
        'gone.test',
        'A',
      );
      expect(got.kind === 'response' && rcodeOf(got.packet)).toBe(3);
      expect(silent.received()).toBe(0);
    } finally {
      await silent.close();
    }
  });

  it('SERVFAIL is not: the next server is asked, and its answer taken', async () => {
    const failing = await scripted();
    const good = await scripted();
    failing.udp = (query) => [reply(query, { flags: AA | 2 })];
    good.udp = (query) => [reply(query)];
    const got = await client().query(
      [serverAddress(failing.server), serverAddress(good.server)],
      'flaky.test',
      'A',
    );
    expect(got.kind === 'response' && got.server).toBe(good.server);
    expect(firstA(got)).toBe('192.0.2.1');
  });

  it('every server failing: the failure that was answered, after one round (not every try)', async () => {
    const s = await scripted();
    s.udp = (query) => [reply(query, { flags: AA | 2 })];
    const got = await client({ tries: 3 }).query([serverAddress(s.server)], 'down.test', 'A');
    expect(got.kind === 'response' && rcodeOf(got.packet)).toBe(2);
    expect(s.udpQueries).toBe(1);
  });
});
