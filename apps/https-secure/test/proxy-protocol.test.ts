import http2 from 'node:http2';
import https from 'node:https';
import type { ConnectionOrigin } from '@netlab/proxy-protocol';
import {
  type Balancer,
  startHaproxy,
  startNginxStream,
  startPrependingRelay,
} from '@netlab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { metricValue, type Started, startHttps } from './helpers.js';

// The client connects from 127.0.0.2 (all of 127/8 is loopback on Linux),
// the balancer to the app from 127.0.0.1: the header's client and the TCP
// peer differ, so a test can tell which one the app reports.
const CLIENT = '127.0.0.2';

/** The /whoami fields these tests read. */
interface Who extends ConnectionOrigin {
  httpVersion: string;
}

/** GET /whoami over HTTP/1.1 from CLIENT through `port`; resolves with the parsed body and the client's port. */
function whoami1(
  port: number,
  ca: string,
): Promise<{ status: number; who: Who; localPort: number }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: '/whoami',
        localAddress: CLIENT,
        agent: false,
        ca,
        ...({ ALPNProtocols: ['http/1.1'] } as object),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            who: JSON.parse(Buffer.concat(chunks).toString()),
            localPort: req.socket!.localPort!,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The same over HTTP/2. */
async function whoami2(port: number, ca: string): Promise<{ who: Who; localPort: number }> {
  const session = http2.connect(`https://127.0.0.1:${port}`, {
    ca,
    localAddress: CLIENT,
  } as http2.SecureClientSessionOptions);
  try {
    const body = await new Promise<string>((resolve, reject) => {
      const stream = session.request({ ':path': '/whoami' });
      const chunks: Buffer[] = [];
      stream.on('data', (d: Buffer) => chunks.push(d));
      stream.on('end', () => resolve(Buffer.concat(chunks).toString()));
      stream.on('error', reject);
      stream.end();
    });
    return { who: JSON.parse(body), localPort: session.socket.localPort! };
  } finally {
    session.close();
  }
}

let app: Started | undefined;
let balancer: Balancer | undefined;
afterEach(async () => {
  await balancer?.close();
  await app?.close();
  balancer = undefined;
  app = undefined;
});

describe('https-secure behind real balancers in TCP mode (PROXY_PROTOCOL=required)', () => {
  it('HAProxy send-proxy-v2: the header, then the ClientHello; /whoami over HTTP/1.1 and HTTP/2 shows peer and client', async () => {
    app = await startHttps({ PROXY_PROTOCOL: 'required' });
    balancer = await startHaproxy({
      backendPort: app.port,
      send: 'send-proxy-v2',
      v2Options: 'crc32c',
    });
    const one = await whoami1(balancer.port, app.ca);
    expect(one.status).toBe(200);
    expect(one.who.peer.address).toBe('127.0.0.1');
    expect(one.who.client).toEqual({ address: CLIENT, port: one.localPort });
    expect(one.who.proxy).toMatchObject({
      version: 2,
      protocol: 'TCP4',
      tlvs: [{ name: 'CRC32C' }],
    });
    const two = await whoami2(balancer.port, app.ca);
    expect(two.who.httpVersion).toBe('2.0');
    expect(two.who.client).toEqual({ address: CLIENT, port: two.localPort });
    const line = await app.logs.waitFor(
      (l) => l.msg === 'request' && l.path === '/whoami' && l.clientPort === one.localPort,
    );
    expect(line).toMatchObject({ status: 200, peer: '127.0.0.1', client: CLIENT });
  });

  it('nginx stream proxy_protocol on (v1)', async () => {
    app = await startHttps({ PROXY_PROTOCOL: 'required' });
    balancer = await startNginxStream(app.port);
    const { who, localPort } = await whoami1(balancer.port, app.ca);
    expect(who.client).toEqual({ address: CLIENT, port: localPort });
    expect(who.proxy).toMatchObject({ version: 1, protocol: 'TCP4' });
  });

  it("a v1 header and the ClientHello in one TCP segment: the handshake completes, the client is the header's", async () => {
    app = await startHttps({ PROXY_PROTOCOL: 'required' });
    const relay = await startPrependingRelay(app.port, (c) =>
      Buffer.from(`PROXY TCP4 ${c.remoteAddress} 127.0.0.1 ${c.remotePort} ${c.localPort}\r\n`),
    );
    try {
      const { status, who, localPort } = await whoami1(relay.port, app.ca);
      expect(status).toBe(200);
      expect(who.client).toEqual({ address: CLIENT, port: localPort });
      // One write: the header (about 45 bytes) and a whole ClientHello (over 200).
      expect(relay.firstWrites[0]).toBeGreaterThan(250);
    } finally {
      await relay.close();
    }
  });

  it('a client that skips the balancer is closed before TLS, logged and counted', async () => {
    app = await startHttps({ PROXY_PROTOCOL: 'required' });
    await expect(whoami1(app.port, app.ca)).rejects.toMatchObject({ code: 'ECONNRESET' });
    await app.logs.waitFor(
      (l) => l.msg === 'PROXY protocol: connection refused' && l.reason === 'missing',
    );
    expect(
      await metricValue(app.registry, 'netlab_proxy_protocol_refused_total', 'reason="missing"'),
    ).toBe(1);
  });
});

describe('https-secure without the setting', () => {
  it('PROXY_PROTOCOL=off behind HAProxy send-proxy: the header is not TLS, the plaintext check answers 400', async () => {
    app = await startHttps();
    balancer = await startHaproxy({ backendPort: app.port, send: 'send-proxy' });
    await expect(whoami1(balancer.port, app.ca)).rejects.toThrow();
    await app.logs.waitFor(
      (l) =>
        l.msg === 'plain HTTP sent to the TLS port: answered 400' &&
        String(l.start).startsWith('"PROXY TCP4 127.'),
    );
  });

  it('PROXY_PROTOCOL=off, direct: /whoami shows the client as the peer and no header', async () => {
    app = await startHttps();
    const { who, localPort } = await whoami1(app.port, app.ca);
    expect(who.peer).toEqual({ address: CLIENT, port: localPort });
    expect(who.client).toEqual(who.peer);
    expect(who.proxy).toBe(null);
  });
});
