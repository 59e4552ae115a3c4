import { once } from 'node:events';
import net from 'node:net';
import { type Balancer, startHaproxy, startNginxStream } from '@netlab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { metricValue, type Started, startEcho } from './helpers.js';

// The client connects from 127.0.0.2 (all of 127/8 is loopback on Linux),
// the balancer to the app from 127.0.0.1: so the header's client and the
// TCP peer differ, and a test can tell which one the app reports.
const CLIENT = '127.0.0.2';

/** Sends `payload` from CLIENT, half-closes, resolves with the echo and the client's port. */
async function echoFrom(
  port: number,
  payload: string,
): Promise<{ echoed: string; localPort: number }> {
  const socket = net.connect({ port, host: '127.0.0.1', localAddress: CLIENT });
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  const closed = once(socket, 'close');
  await once(socket, 'connect');
  const localPort = socket.localPort as number;
  socket.end(payload);
  await closed;
  return { echoed: Buffer.concat(chunks).toString('latin1'), localPort };
}

let app: Started | undefined;
let balancer: Balancer | undefined;
afterEach(async () => {
  await balancer?.close();
  await app?.close();
  balancer = undefined;
  app = undefined;
});

describe('tcp-echo behind real balancers (PROXY_PROTOCOL=required)', () => {
  it('HAProxy send-proxy (v1): the echo is intact and the connection line carries the peer and the client', async () => {
    app = await startEcho({ PROXY_PROTOCOL: 'required' });
    balancer = await startHaproxy({ backendPort: app.port, send: 'send-proxy' });
    const { echoed, localPort } = await echoFrom(balancer.port, 'hello\n');
    expect(echoed).toBe('hello\n');
    const line = await app.logs.waitFor(
      (l) => l.msg === 'connection closed' && l.clientAddress === CLIENT,
    );
    expect(line).toMatchObject({
      remoteAddress: '127.0.0.1',
      clientAddress: CLIENT,
      clientPort: localPort,
      proxy: { version: 1, command: 'PROXY', protocol: 'TCP4', tlvs: [] },
      bytesOut: 6,
    });
  });

  it('HAProxy send-proxy-v2 with crc32c and unique-id: the TLVs are in the line', async () => {
    app = await startEcho({ PROXY_PROTOCOL: 'required' });
    balancer = await startHaproxy({
      backendPort: app.port,
      send: 'send-proxy-v2',
      v2Options: 'crc32c,unique-id',
    });
    const { echoed, localPort } = await echoFrom(balancer.port, 'v2');
    expect(echoed).toBe('v2');
    const line = await app.logs.waitFor(
      (l) => l.msg === 'connection closed' && l.clientAddress === CLIENT,
    );
    expect(line).toMatchObject({
      clientAddress: CLIENT,
      clientPort: localPort,
      proxy: { version: 2, protocol: 'TCP4' },
    });
    const names = (line.proxy as { tlvs: { name: string }[] }).tlvs.map((t) => t.name).sort();
    expect(names).toEqual(['CRC32C', 'UNIQUE_ID']);
  });

  it('nginx stream proxy_protocol on (v1): the same', async () => {
    app = await startEcho({ PROXY_PROTOCOL: 'required' });
    balancer = await startNginxStream(app.port);
    const { echoed, localPort } = await echoFrom(balancer.port, 'via nginx');
    expect(echoed).toBe('via nginx');
    const line = await app.logs.waitFor(
      (l) => l.msg === 'connection closed' && l.clientAddress === CLIENT,
    );
    expect(line).toMatchObject({
      remoteAddress: '127.0.0.1',
      clientAddress: CLIENT,
      clientPort: localPort,
      proxy: { version: 1 },
    });
  });

  it("HAProxy's own health check sends LOCAL: served with the TCP peer as the client", async () => {
    app = await startEcho({ PROXY_PROTOCOL: 'required' });
    balancer = await startHaproxy({
      backendPort: app.port,
      send: 'send-proxy-v2',
      check: { intervalMs: 100, send: 'ping', expect: 'ping' },
    });
    const line = await app.logs.waitFor(
      (l) =>
        l.msg === 'connection closed' &&
        (l.proxy as { command?: string } | undefined)?.command === 'LOCAL',
    );
    expect(line).toMatchObject({
      remoteAddress: '127.0.0.1',
      clientAddress: '127.0.0.1',
      proxy: { version: 2, protocol: 'UNSPEC' },
    });
    expect(line.clientPort).toBe(line.remotePort);
    expect(await metricValue(app.registry, 'netlab_proxy_protocol_refused_total')).toBe(0);
  });

  it('a client that skips the balancer is refused (reason missing), and counted', async () => {
    app = await startEcho({ PROXY_PROTOCOL: 'required' });
    const { echoed } = await echoFrom(app.port, 'direct');
    expect(echoed).toBe('');
    await app.logs.waitFor(
      (l) => l.msg === 'PROXY protocol: connection refused' && l.reason === 'missing',
    );
    expect(
      await metricValue(app.registry, 'netlab_proxy_protocol_refused_total', 'reason="missing"'),
    ).toBe(1);
  });
});

describe('tcp-echo behind HAProxy without the setting', () => {
  it('PROXY_PROTOCOL=off (default): the header is echoed as bytes, the client is the balancer', async () => {
    app = await startEcho();
    balancer = await startHaproxy({ backendPort: app.port, send: 'send-proxy' });
    const { echoed, localPort } = await echoFrom(balancer.port, 'x');
    expect(echoed).toMatch(
      new RegExp(`^PROXY TCP4 ${CLIENT} 127\\.0\\.0\\.1 ${localPort} ${balancer.port}\\r\\nx$`),
    );
    const line = await app.logs.waitFor(
      (l) => l.msg === 'connection closed' && l.bytesOut === echoed.length,
    );
    expect(line.clientAddress).toBe('127.0.0.1');
    expect(line.proxy).toBeUndefined();
  });
});
