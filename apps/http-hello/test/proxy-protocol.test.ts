import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { type Balancer, startHaproxy, startNginxStream } from '@netlab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { metricValue, type Started, startHello } from './helpers.js';

// The client connects from 127.0.0.2 (all of 127/8 is loopback on Linux),
// the balancer to the app from 127.0.0.1: the header's client and the TCP
// peer differ, so a test can tell which one the app reports.
const CLIENT = '127.0.0.2';

interface Answer {
  status: number;
  body: string;
  localPort: number;
}

/** GET `path` from CLIENT, one request per connection. */
function get(
  port: number,
  path: string,
  opts: { headers?: Record<string, string>; tls?: https.RequestOptions } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const mod = opts.tls ? https : http;
    const req = mod.request(
      {
        host: '127.0.0.1',
        port,
        path,
        localAddress: CLIENT,
        agent: false,
        headers: opts.headers,
        ...opts.tls,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString(),
            localPort: req.socket?.localPort ?? 0,
          }),
        );
      },
    );
    let localPort = 0;
    req.on('socket', (s) => s.on('connect', () => (localPort = s.localPort ?? 0)));
    req.on('error', (err) => reject(Object.assign(err, { localPort })));
    req.end();
  });
}

let app: Started | undefined;
let balancer: Balancer | undefined;
afterEach(async () => {
  await balancer?.close();
  await app?.close();
  balancer = undefined;
  app = undefined;
});

describe('http-hello behind real balancers (PROXY_PROTOCOL=required)', () => {
  it('HAProxy send-proxy-v2: /whoami shows the peer, the client and the header; X-Forwarded-For stays as sent', async () => {
    app = await startHello({ PROXY_PROTOCOL: 'required' });
    balancer = await startHaproxy({
      backendPort: app.port,
      send: 'send-proxy-v2',
      v2Options: 'crc32c,unique-id',
    });
    const res = await get(balancer.port, '/whoami', {
      headers: { 'x-forwarded-for': '198.51.100.66' },
    });
    expect(res.status).toBe(200);
    const who = JSON.parse(res.body);
    expect(who.peer.address).toBe('127.0.0.1');
    expect(who.client).toEqual({ address: CLIENT, port: res.localPort });
    expect(who.proxy).toMatchObject({
      version: 2,
      command: 'PROXY',
      protocol: 'TCP4',
      source: { address: CLIENT, port: res.localPort },
      destination: { address: '127.0.0.1', port: balancer.port },
    });
    expect(who.proxy.tlvs.map((t: { name: string }) => t.name).sort()).toEqual([
      'CRC32C',
      'UNIQUE_ID',
    ]);
    expect(who.headers['x-forwarded-for']).toBe('198.51.100.66');
    expect(who.remote.address).toBe('127.0.0.1');
    const line = await app.logs.waitFor((l) => l.msg === 'request' && l.path === '/whoami');
    expect(line).toMatchObject({
      status: 200,
      peer: '127.0.0.1',
      client: CLIENT,
      clientPort: res.localPort,
    });
  });

  it('HAProxy send-proxy-v2-ssl-cn in front of TLS with a client certificate: the SSL TLV says version, cipher, CN, verified', async () => {
    app = await startHello({ PROXY_PROTOCOL: 'required' });
    const haproxy = await startHaproxy({
      backendPort: app.port,
      send: 'send-proxy-v2-ssl-cn',
      v2Options: 'ssl-cipher,cert-sig,cert-key',
      tls: true,
    });
    balancer = haproxy;
    const pki = haproxy.pki!;
    const res = await get(balancer.port, '/whoami', {
      tls: {
        ca: readFileSync(pki.ca),
        cert: readFileSync(pki.clientCert),
        key: readFileSync(pki.clientKey),
        servername: 'localhost',
      },
    });
    expect(res.status).toBe(200);
    const who = JSON.parse(res.body);
    expect(who.client).toEqual({ address: CLIENT, port: res.localPort });
    const ssl = who.proxy.tlvs.find((t: { name: string }) => t.name === 'SSL');
    expect(ssl.value).toMatchObject({
      ssl: true,
      certInConnection: true,
      verify: 0,
      certVerified: true,
      version: 'TLSv1.3',
      cn: 'netlab-client',
    });
    // Exactly what HAProxy 2.6 sends, sub-TLVs decoded.
    expect(ssl.value).toEqual({
      ssl: true,
      certInConnection: true,
      certInSession: true,
      verify: 0,
      certVerified: true,
      version: 'TLSv1.3',
      cn: 'netlab-client',
      keyAlg: 'EC256',
      sigAlg: 'ecdsa-with-SHA256',
      cipher: 'TLS_AES_256_GCM_SHA384',
    });
  });

  it('HAProxy send-proxy-v2-ssl without a client certificate: SSL, not verified', async () => {
    app = await startHello({ PROXY_PROTOCOL: 'required' });
    const haproxy = await startHaproxy({
      backendPort: app.port,
      send: 'send-proxy-v2-ssl',
      tls: true,
    });
    balancer = haproxy;
    const res = await get(balancer.port, '/whoami', {
      tls: { ca: readFileSync(haproxy.pki!.ca), servername: 'localhost' },
    });
    const ssl = JSON.parse(res.body).proxy.tlvs.find((t: { name: string }) => t.name === 'SSL');
    expect(ssl.value).toMatchObject({
      ssl: true,
      certInConnection: false,
      certVerified: false,
      version: 'TLSv1.3',
    });
    expect(ssl.value.cn).toBeUndefined();
  });

  it('nginx stream proxy_protocol on: /whoami shows the client from the v1 header', async () => {
    app = await startHello({ PROXY_PROTOCOL: 'required' });
    balancer = await startNginxStream(app.port);
    const res = await get(balancer.port, '/whoami');
    const who = JSON.parse(res.body);
    expect(who.client).toEqual({ address: CLIENT, port: res.localPort });
    expect(who.proxy).toMatchObject({ version: 1, protocol: 'TCP4', tlvs: [] });
  });

  it('a client that skips the balancer is closed without an answer, logged and counted', async () => {
    app = await startHello({ PROXY_PROTOCOL: 'required' });
    await expect(get(app.port, '/whoami')).rejects.toMatchObject({ code: 'ECONNRESET' });
    await app.logs.waitFor(
      (l) => l.msg === 'PROXY protocol: connection refused' && l.reason === 'missing',
    );
    expect(
      await metricValue(app.registry, 'netlab_proxy_protocol_refused_total', 'reason="missing"'),
    ).toBe(1);
  });
});

describe('http-hello without the setting', () => {
  it('PROXY_PROTOCOL=off behind HAProxy send-proxy: the header is not HTTP, 400', async () => {
    app = await startHello();
    balancer = await startHaproxy({ backendPort: app.port, send: 'send-proxy' });
    expect((await get(balancer.port, '/whoami')).status).toBe(400);
  });

  it('PROXY_PROTOCOL=off, direct: /whoami shows the client as the peer, no header, and no origin in the access line', async () => {
    app = await startHello();
    const res = await get(app.port, '/whoami');
    const who = JSON.parse(res.body);
    expect(who.peer).toEqual({ address: CLIENT, port: res.localPort });
    expect(who.client).toEqual(who.peer);
    expect(who.proxy).toBe(null);
    const line = await app.logs.waitFor((l) => l.msg === 'request' && l.path === '/whoami');
    expect(line.client).toBeUndefined();
  });
});
