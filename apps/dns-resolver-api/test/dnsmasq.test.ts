import { type ChildProcess, execFile, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { promises as dnsPromises } from 'node:dns';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type ReadyApp, startApp, waitUntil } from '@netlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

let dnsmasq: ChildProcess | undefined;
let app: ReadyApp | undefined;
let dir: string | undefined;

beforeAll(async () => {
  if (DNSMASQ === undefined)
    throw new Error('dnsmasq not installed (apt-get install dnsmasq-base)');
  const port = await freeDnsPort();
  dir = mkdtempSync(join(tmpdir(), 'netlab-dnsmasq-'));
  dnsmasq = spawn(
    DNSMASQ,
    [
      '--no-daemon',
      '--conf-file=/dev/null',
      '--no-resolv',
      '--no-hosts',
      `--port=${port}`,
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      `--pid-file=${join(dir, 'dnsmasq.pid')}`,
      `--user=${userInfo().username}`,
      '--log-facility=-',
      '--local-ttl=60',
      // Names it answers itself, and a domain where anything else is NXDOMAIN.
      '--local=/e2e.netlab.test/',
      '--address=/e2e.netlab.test/192.0.2.50',
      '--mx-host=e2e.netlab.test,mail.e2e.netlab.test,10',
      '--txt-record=e2e.netlab.test,hello dnsmasq',
      '--srv-host=_http._tcp.e2e.netlab.test,web.e2e.netlab.test,8080,5,10',
      '--local=/nx.netlab.test/',
      // Over 1232 bytes, more than fits c-ares' EDNS UDP size: truncated, then asked again over TCP.
      `--txt-record=big.e2e.netlab.test,${BIG_TXT.join(',')}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  dnsmasq.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const probe = new dnsPromises.Resolver({ timeout: 200, tries: 1 });
  probe.setServers([`127.0.0.1:${port}`]);
  await waitUntil(() => probe.resolve4('e2e.netlab.test').then((a) => a.length > 0), {
    what: () => `dnsmasq on port ${port}; stderr:\n${stderr}`,
  });
  app = await startApp(MAIN, {
    HOST: '127.0.0.1',
    DNS_SERVERS: `127.0.0.1:${port}`,
    DNS_TRIES: '1',
  });
});

afterAll(async () => {
  app?.kill();
  if (dnsmasq && dnsmasq.exitCode === null && dnsmasq.signalCode === null) {
    const exited = once(dnsmasq, 'exit');
    process.kill(dnsmasq.pid!, 'SIGTERM');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function curlJson(path: string) {
  const { stdout } = await exec(
    'curl',
    ['-s', '-w', '\n%{http_code}', `http://127.0.0.1:${app!.port}${path}`],
    {
      timeout: 10_000,
    },
  );
  const cut = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(cut + 1)), json: JSON.parse(stdout.slice(0, cut)) };
}

describe('against a real DNS server (dnsmasq), with curl', () => {
  it.each([
    ['e2e.netlab.test', 'A', { type: 1, TTL: 60, data: '192.0.2.50' }],
    ['e2e.netlab.test', 'MX', { type: 15, data: '10 mail.e2e.netlab.test.' }],
    ['e2e.netlab.test', 'TXT', { type: 16, data: '"hello dnsmasq"' }],
    ['_http._tcp.e2e.netlab.test', 'SRV', { type: 33, data: '5 10 8080 web.e2e.netlab.test.' }],
  ])('%s %s', async (name, type, record) => {
    const res = await curlJson(`/resolve?name=${name}&type=${type}`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ Status: 0, Answer: [{ name, ...record }] });
  });

  it('NODATA (a name with only an A record, asked for AAAA): Status 0, no Answer', async () => {
    const res = await curlJson('/resolve?name=e2e.netlab.test&type=AAAA');
    expect(res.status).toBe(200);
    expect(res.json.Status).toBe(0);
    expect(res.json).not.toHaveProperty('Answer');
  });

  it('NXDOMAIN in a local domain: 200 with Status 3', async () => {
    const res = await curlJson('/resolve?name=nothing.nx.netlab.test');
    expect(res.status).toBe(200);
    expect(res.json.Status).toBe(3);
  });

  it('a name dnsmasq has no upstream for: REFUSED, 502', async () => {
    const res = await curlJson('/resolve?name=example.com');
    expect(res.status).toBe(502);
    expect(res.json).toMatchObject({ Status: 5, code: 'NETLAB_ERR_DNS_REFUSED' });
  });

  it('an answer too big for UDP comes back whole (c-ares retries over TCP)', async () => {
    const res = await curlJson('/resolve?name=big.e2e.netlab.test&type=TXT');
    expect(res.status).toBe(200);
    expect(res.json.Answer).toEqual([
      { name: 'big.e2e.netlab.test', type: 16, data: BIG_TXT.map((t) => `"${t}"`).join(' ') },
    ]);
  });

  it('the second ask comes from the cache, with the TTL counting down from 60', async () => {
    await curlJson('/resolve?name=cache.e2e.netlab.test');
    const again = await curlJson('/resolve?name=cache.e2e.netlab.test');
    expect(again.json.cached).toBe(true);
    expect(again.json.Answer[0].TTL).toBeLessThanOrEqual(60);
  });
});
