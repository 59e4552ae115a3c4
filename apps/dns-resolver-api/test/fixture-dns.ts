import dgram from 'node:dgram';
import { once } from 'node:events';
import dnsPacket, { type Answer, type Packet } from 'dns-packet';
import { demoAnswer } from '../src/demo-zone.js';

export { ZONE } from '../src/demo-zone.js';

/**
 * A DNS server for tests: `dns-packet` over a real UDP socket on 127.0.0.1
 * (or `host`), port 0. It answers the demo zone (src/demo-zone.ts: one
 * record set of every type under `netlab.test`, NXDOMAIN for other names,
 * `servfail.` and `refused.netlab.test`), and:
 *
 * - `silent.netlab.test`: never answered (the client times out);
 * - any name given a canned reply with set() (a record changed upstream);
 * - with spoof(), forged datagrams (wrong ID, wrong question) before each real answer.
 *
 * It counts every query it receives, so tests can see what reached it.
 */
export interface FixtureDns {
  port: number;
  /** `127.0.0.1:port` (`[::1]:port`), as DNS_SERVERS takes it. */
  server: string;
  /** Every question received, in order, as `TYPE name` (name lower-cased). */
  readonly queries: string[];
  /** How many times `TYPE name` was asked. */
  count(type: string, name: string): number;
  /** Holds every answer until release() (coalescing tests: the query stays in flight). */
  hold(): void;
  release(): void;
  /** Answers `name` (every type) with `reply` from now on; undefined: the zone's answer again. */
  set(name: string, reply: Canned | undefined): void;
  /** Before each real answer, sends forged ones: another ID, then the right ID for another question. */
  spoof(on: boolean): void;
  close(): Promise<void>;
}

type Records = Answer[];

/** A canned reply for one name (every type), replacing the zone's. */
export interface Canned {
  rcode: number;
  answers: Records;
  authorities: Records;
}

// Header flags (RFC 1035 §4.1.1): dns-packet's encode ignores `rcode`, so
// the RCODE goes into the low 4 bits of `flags` with AA, RD and RA.
const AA = 0x0400;
const RD = 0x0100;
const RA = 0x0080;

export async function startFixtureDns(host = '127.0.0.1'): Promise<FixtureDns> {
  const v6 = host.includes(':');
  const socket = dgram.createSocket(v6 ? 'udp6' : 'udp4');
  const queries: string[] = [];
  let held: Array<() => void> | undefined;
  const canned = new Map<string, Canned>();
  let spoofing = false;

  socket.on('message', (msg, rinfo) => {
    let query: Packet;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return;
    }
    const q = query.questions?.[0];
    if (!q) return;
    const name = q.name.toLowerCase();
    queries.push(`${q.type} ${name}`);
    if (name === 'silent.netlab.test') return;
    const reply = () => {
      const { rcode, answers, authorities } = canned.get(name) ?? demoAnswer(name, q.type);
      if (spoofing) {
        const forged = { name: q.name, type: q.type, ttl: 999, data: '203.0.113.66' } as Answer;
        const lie = (id: number, questions: Packet['questions']) =>
          dnsPacket.encode({ id, type: 'response', flags: AA | RA, questions, answers: [forged] });
        socket.send(lie((query.id! + 1) & 0xffff, query.questions), rinfo.port, rinfo.address);
        const other = [{ ...q, name: `other.${q.name}` }];
        socket.send(lie(query.id!, other), rinfo.port, rinfo.address);
      }
      const out = dnsPacket.encode({
        id: query.id,
        type: 'response',
        flags: AA | ((query.flags ?? 0) & RD) | RA | rcode,
        questions: query.questions,
        answers,
        authorities,
      });
      socket.send(out, rinfo.port, rinfo.address);
    };
    if (held) held.push(reply);
    else reply();
  });

  socket.bind(0, host);
  await once(socket, 'listening');
  const port = socket.address().port;
  return {
    port,
    server: v6 ? `[${host}]:${port}` : `${host}:${port}`,
    queries,
    count: (type, name) => queries.filter((q) => q === `${type} ${name}`).length,
    hold: () => {
      held = [];
    },
    release: () => {
      const pending = held ?? [];
      held = undefined;
      for (const reply of pending) reply();
    },
    set: (name, reply) => {
      if (reply === undefined) canned.delete(name);
      else canned.set(name, reply);
    },
    spoof: (on) => {
      spoofing = on;
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** A UDP socket that receives queries and never answers: the server that is down but not refusing. */
export async function startSilentDns(): Promise<{
  server: string;
  received: () => number;
  close(): Promise<void>;
}> {
  const socket = dgram.createSocket('udp4');
  let received = 0;
  socket.on('message', () => {
    received++;
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return {
    server: `127.0.0.1:${socket.address().port}`,
    received: () => received,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** The zone's SOA record with its own TTL and MINIMUM (RFC 2308's two bounds on a negative answer). */
export const soa = (ttl: number, minimum: number): Answer => ({
  name: 'netlab.test',
  type: 'SOA',
  ttl,
  data: {
    mname: 'ns1.netlab.test',
    rname: 'hostmaster.netlab.test',
    serial: 1,
    refresh: 2,
    retry: 3,
    expire: 4,
    minimum,
  },
});
