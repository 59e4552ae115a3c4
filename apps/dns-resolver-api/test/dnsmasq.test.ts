import { type ChildProcess, execFile, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type ReadyApp, startApp, waitUntil } from '@netlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECORD_TYPES, type RecordType } from '../src/record-type.js';
import { MAIN } from './helpers.js';

const exec = promisify(execFile);
const DNSMASQ = ['/usr/sbin/dnsmasq', '/usr/bin/dnsmasq'].find((p) => existsSync(p));

/**
 * A port free on 127.0.0.1 for UDP and TCP alike right now: dnsmasq binds
 * both a moment later, and a TCP port taken by some other test's client
 * would make it exit at once.
 */
async function freeDnsPort(): Promise<number> {
  for (;;) {
    const udp = dgram.createSocket('udp4');
    udp.bind(0, '127.0.0.1');
    await once(udp, 'listening');
    const { port } = udp.address();
    const tcp = net.createServer();
    const free = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (free) await new Promise<void>((resolve) => tcp.close(() => resolve()));
    if (free) return port;
  }
}

const BIG_TXT = Array.from({ length: 6 }, (_, i) => String(i).repeat(250));

/**
 * The plain server: records of every type dnsmasq can hold, with different
 * TTLs: A and AAAA 7 s, the CNAME 3 s, everything else 4 s (--local-ttl);
 * NXDOMAIN and NODATA come without an SOA. `change.e2e` is the record the
 * tests change upstream (TTL 2 s).
 */
const plainArgs = (changeTo: string) => [
  '--local-ttl=4',
  '--local=/e2e.netlab.test/',
  '--host-record=e2e.netlab.test,192.0.2.50,2001:db8::50,7',
  '--cname=alias.e2e.netlab.test,e2e.netlab.test,3',
  '--mx-host=e2e.netlab.test,mail.e2e.netlab.test,10',
  '--txt-record=e2e.netlab.test,hello dnsmasq',
  '--srv-host=_http._tcp.e2e.netlab.test,web.e2e.netlab.test,8080,5,10',
  '--ptr-record=50.2.0.192.in-addr.arpa,e2e.netlab.test',
  '--naptr-record=e2e.netlab.test,100,10,S,SIP+D2U,,_sip._udp.e2e.netlab.test',
  // CAA 0 issue "letsencrypt.org" (RFC 8659 wire format: flags, tag length, tag, value).
  `--dns-rr=e2e.netlab.test,257,00056973737565${Buffer.from('letsencrypt.org').toString('hex')}`,
  // Over 512 bytes, more than a UDP answer without EDNS holds: truncated, then asked again over TCP.
  `--txt-record=big.e2e.netlab.test,${BIG_TXT.join(',')}`,
  `--host-record=change.e2e.netlab.test,${changeTo},2`,
];

/** The authoritative server: NS and SOA, and negative answers that carry the SOA (TTL 6 s). */
const authArgs = [
  '--auth-ttl=6',
  '--auth-server=ns1.auth.netlab.test,127.0.0.1',
  '--auth-zone=auth.netlab.test',
  '--auth-soa=2026120601,hostmaster.auth.netlab.test,1200,120,604800',
  '--host-record=auth.netlab.test,192.0.2.70',
];

interface Dnsmasq {
  port: number;
  dir: string;
  child: ChildProcess;
  stderr: () => string;
}

async function startDnsmasq(args: string[], port?: number): Promise<Dnsmasq> {
  if (DNSMASQ === undefined)
    throw new Error('dnsmasq not installed (apt-get install dnsmasq-base)');
  const p = port ?? (await freeDnsPort());
  const dir = mkdtempSync(join(tmpdir(), 'netlab-dnsmasq-'));
  const child = spawn(
    DNSMASQ,
    [
      '--no-daemon',
      '--conf-file=/dev/null',
      '--no-resolv',
      '--no-hosts',
      `--port=${p}`,
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      `--pid-file=${join(dir, 'dnsmasq.pid')}`,
      `--user=${userInfo().username}`,
      '--log-facility=-',
      ...args,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const server = { port: p, dir, child, stderr: () => stderr };
  await waitUntil(async () => (await dig(server, 'netlab.test', 'SOA')).status !== undefined, {
    what: () => `dnsmasq on port ${p}; stderr:\n${stderr}`,
  });
  return server;
}

async function stopDnsmasq(d: Dnsmasq | undefined): Promise<void> {
  if (d === undefined) return;
  if (d.child.exitCode === null && d.child.signalCode === null) {
    const exited = once(d.child, 'exit');
    process.kill(d.child.pid!, 'SIGTERM');
    await exited;
  }
  rmSync(d.dir, { recursive: true, force: true });
}

interface DigRecord {
  name: string;
  type: number;
  TTL: number;
  data: string;
}

/** What dig says: the status, and the answer and authority records as dns-json would carry them. */
async function dig(server: { port: number }, name: string, type: string) {
  const { stdout } = await exec(
    'dig',
    [
      `@127.0.0.1`,
      '-p',
      String(server.port),
      name,
      type,
      '+noall',
      '+comments',
      '+answer',
      '+authority',
      '+tries=1',
      '+time=1',
    ],
    { timeout: 5_000 },
  ).catch(() => ({ stdout: '' }));
  const status = /status: ([A-Z]+)/.exec(stdout)?.[1];
  const sections: Record<string, DigRecord[]> = { ANSWER: [], AUTHORITY: [] };
  let section: string | undefined;
  for (const line of stdout.split('\n')) {
    const header = /^;; (ANSWER|AUTHORITY) SECTION:/.exec(line);
    if (header) section = header[1];
    const rr = /^(\S+)\s+(\d+)\s+IN\s+(\S+)\s+(.*)$/.exec(line);
    if (rr && section) {
      sections[section]!.push({
        name: rr[1]!.replace(/\.$/, ''),
        type: RECORD_TYPES[rr[3] as RecordType],
        TTL: Number(rr[2]),
        data: rr[4]!.trim(),
      });
    }
  }
  return { status, answer: sections.ANSWER!, authority: sections.AUTHORITY! };
}

let plain: Dnsmasq | undefined;
let auth: Dnsmasq | undefined;
let app: ReadyApp | undefined;

beforeAll(async () => {
  plain = await startDnsmasq(plainArgs('192.0.2.80'));
  auth = await startDnsmasq(authArgs);
  // The plain server refuses auth.netlab.test (it has no upstream): the API asks the next.
  app = await startApp(MAIN, {
    HOST: '127.0.0.1',
    DNS_SERVERS: `127.0.0.1:${plain.port},127.0.0.1:${auth.port}`,
    DNS_TRIES: '1',
    DNS_DEMO_ZONE: 'false',
  });
});

afterAll(async () => {
  app?.kill();
  await stopDnsmasq(plain);
  await stopDnsmasq(auth);
});

async function curlJson(path: string) {
  const { stdout } = await exec(
    'curl',
    ['-s', '-i', '-w', '\n%{http_code}', `http://127.0.0.1:${app!.port}${path}`],
    { timeout: 10_000 },
  );
  const cut = stdout.lastIndexOf('\n');
  const text = stdout.slice(0, cut);
  const bodyAt = text.indexOf('\r\n\r\n');
  const maxAge = /^cache-control: max-age=(\d+)/im.exec(text.slice(0, bodyAt))?.[1];
  return {
    status: Number(stdout.slice(cut + 1)),
    maxAge: maxAge === undefined ? undefined : Number(maxAge),
    json: JSON.parse(text.slice(bodyAt + 4)),
  };
}

const STATUS: Record<string, number> = { NOERROR: 0, NXDOMAIN: 3 };

describe('against real DNS servers (dnsmasq), side by side with dig', () => {
  it.each([
    ['e2e.netlab.test', 'A', 'plain', 7],
    ['e2e.netlab.test', 'AAAA', 'plain', 7],
    ['e2e.netlab.test', 'MX', 'plain', 4],
    ['e2e.netlab.test', 'TXT', 'plain', 4],
    ['_http._tcp.e2e.netlab.test', 'SRV', 'plain', 4],
    ['50.2.0.192.in-addr.arpa', 'PTR', 'plain', 4],
    ['e2e.netlab.test', 'NAPTR', 'plain', 4],
    ['e2e.netlab.test', 'CAA', 'plain', 4],
    ['alias.e2e.netlab.test', 'CNAME', 'plain', 3],
    // Through the CNAME: the chain, then the target; the CNAME's 3 s rules.
    ['alias.e2e.netlab.test', 'A', 'plain', 3],
    ['auth.netlab.test', 'NS', 'auth', 6],
    ['auth.netlab.test', 'SOA', 'auth', 6],
  ] as const)(
    '%s %s: the records, TTLs and data dig shows; max-age = the shortest TTL',
    async (name, type, which, shortest) => {
      const server = which === 'plain' ? plain! : auth!;
      const [ours, theirs] = await Promise.all([
        curlJson(`/resolve?name=${name}&type=${type}`),
        dig(server, name, type),
      ]);
      expect(ours.status).toBe(200);
      expect(theirs.answer.length).toBeGreaterThan(0);
      expect(ours.json).toMatchObject({
        Status: 0,
        cached: false,
        upstream: `127.0.0.1:${server.port}`,
      });
      expect(ours.json.Answer).toEqual(theirs.answer);
      expect(ours.maxAge).toBe(shortest);
      expect(Math.min(...theirs.answer.map((r) => r.TTL))).toBe(shortest);
    },
  );

  it.each([
    ['nothing.e2e.netlab.test', 'A', 'plain', 'NXDOMAIN', 0],
    ['e2e.netlab.test', 'NS', 'plain', 'NOERROR', 0],
    ['nothing.auth.netlab.test', 'A', 'auth', 'NXDOMAIN', 6],
    ['auth.netlab.test', 'MX', 'auth', 'NOERROR', 6],
  ] as const)(
    'negative %s %s: %s, cached as long as its SOA says (none: not at all)',
    async (name, type, which, status, maxAge) => {
      const server = which === 'plain' ? plain! : auth!;
      const [ours, theirs] = await Promise.all([
        curlJson(`/resolve?name=${name}&type=${type}`),
        dig(server, name, type),
      ]);
      expect(theirs.status).toBe(status);
      expect(theirs.answer).toEqual([]);
      expect(ours.status).toBe(200);
      expect(ours.json.Status).toBe(STATUS[status]);
      expect(ours.json).not.toHaveProperty('Answer');
      const soa = theirs.authority.find((r) => r.type === 6);
      const expected =
        soa === undefined ? 0 : Math.min(soa.TTL, Number(soa.data.split(' ').at(-1)));
      expect(ours.maxAge).toBe(expected);
      expect(expected).toBe(maxAge);
    },
  );

  it('a name neither server answers for: REFUSED, 502', async () => {
    const res = await curlJson('/resolve?name=example.com');
    expect(res.status).toBe(502);
    expect(res.json).toMatchObject({ Status: 5, code: 'NETLAB_ERR_DNS_REFUSED' });
  });

  it('an answer too big for UDP comes back whole (truncated, asked again over TCP)', async () => {
    const res = await curlJson('/resolve?name=big.e2e.netlab.test&type=TXT');
    expect(res.status).toBe(200);
    expect(res.json.Answer).toEqual([
      {
        name: 'big.e2e.netlab.test',
        type: 16,
        TTL: 4,
        data: BIG_TXT.map((t) => `"${t}"`).join(' '),
      },
    ]);
  });

  it('a record changed upstream is served new once its TTL (2 s) is over, not before', async () => {
    const path = '/resolve?name=change.e2e.netlab.test';
    const first = await curlJson(path);
    const stored = performance.now();
    expect(first.json.Answer).toEqual([
      { name: 'change.e2e.netlab.test', type: 1, TTL: 2, data: '192.0.2.80' },
    ]);
    // The same port, the record changed.
    const port = plain!.port;
    await stopDnsmasq(plain);
    plain = await startDnsmasq(plainArgs('192.0.2.81'), port);
    expect((await dig(plain, 'change.e2e.netlab.test', 'A')).answer[0]?.data).toBe('192.0.2.81');
    let last = first;
    // The old record, while it is served: from the cache, its TTL counted down to max-age.
    const old: Array<{ cached: boolean; TTL: number; maxAge: number | undefined }> = [];
    await waitUntil(
      async () => {
        last = await curlJson(path);
        const r = last.json.Answer[0];
        if (r.data === '192.0.2.80')
          old.push({ cached: last.json.cached, TTL: r.TTL, maxAge: last.maxAge });
        return r.data === '192.0.2.81';
      },
      { timeoutMs: 8_000, intervalMs: 50, what: 'the changed record' },
    );
    const elapsed = performance.now() - stored;
    for (const o of old) {
      expect(o.cached).toBe(true);
      expect(o.maxAge).toBe(o.TTL);
    }
    expect(elapsed).toBeGreaterThanOrEqual(1_900);
    expect(elapsed).toBeLessThan(5_000);
    expect(last.json.cached).toBe(false);
  });
});
