import { type Balancer, metricValue, startHaproxy, startNginxStream } from '@netlab/testkit';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NetlabClient } from '../src/client.js';
import { type Started, startServer } from './helpers.js';
import { makePki, type TestPki } from './pki.js';

let pki: TestPki;
beforeAll(async () => {
  pki = await makePki();
});

let app: Started | undefined;
let balancer: Balancer | undefined;
afterEach(async () => {
  await balancer?.close();
  await app?.close();
  balancer = undefined;
  app = undefined;
});

/** INFO through `port` (the balancer); the client's own port is what the header must carry. */
async function infoThrough(port: number) {
  const client = await NetlabClient.connect({
    port,
    host: '127.0.0.1',
    ca: pki.ca.cert,
    servername: 'localhost',
  });
  try {
    return {
      info: await client.info(),
      localPort: client.socket.localPort,
    };
  } finally {
    client.close();
  }
}

describe('tls-custom-protocol behind real balancers (PROXY_PROTOCOL=required)', () => {
  it('HAProxy send-proxy-v2: INFO reports the peer (HAProxy) and the client from the header; the close line both', async () => {
    app = await startServer(pki, { PROXY_PROTOCOL: 'required' });
    balancer = await startHaproxy({
      backendPort: app.port,
      send: 'send-proxy-v2',
      v2Options: 'crc32c',
    });
    const { info, localPort } = await infoThrough(balancer.port);
    expect(info.client).toEqual({ address: '127.0.0.1', port: localPort });
    expect(info.peer.port).not.toBe(localPort);
    expect(info.proxy).toMatchObject({ version: 2, protocol: 'TCP4', tlvs: [{ name: 'CRC32C' }] });
    const line = await app.logs.waitFor(
      (l) => l.msg === 'connection closed' && l.clientPort === localPort,
    );
    expect(line).toMatchObject({
      remoteAddress: '127.0.0.1',
      clientAddress: '127.0.0.1',
      proxy: { version: 2 },
    });
  });

  it('nginx stream proxy_protocol on (v1)', async () => {
    app = await startServer(pki, { PROXY_PROTOCOL: 'required' });
    balancer = await startNginxStream(app.port);
    const { info, localPort } = await infoThrough(balancer.port);
    expect(info.client).toEqual({ address: '127.0.0.1', port: localPort });
    expect(info.proxy).toMatchObject({ version: 1, protocol: 'TCP4' });
  });

  it('a client that skips the balancer is closed before TLS, logged and counted', async () => {
    app = await startServer(pki, { PROXY_PROTOCOL: 'required' });
    await expect(infoThrough(app.port)).rejects.toThrow();
    await app.logs.waitFor(
      (l) => l.msg === 'PROXY protocol: connection refused' && l.reason === 'missing',
    );
    expect(
      await metricValue(app.registry, 'netlab_proxy_protocol_refused_total', 'reason="missing"'),
    ).toBe(1);
  });
});

describe('tls-custom-protocol without the setting', () => {
  it('PROXY_PROTOCOL=off behind HAProxy send-proxy: the header is not TLS, the handshake fails', async () => {
    app = await startServer(pki);
    balancer = await startHaproxy({ backendPort: app.port, send: 'send-proxy' });
    await expect(infoThrough(balancer.port)).rejects.toThrow();
    await app.logs.waitFor((l) => l.msg === 'TLS handshake failed');
  });

  it('PROXY_PROTOCOL=off, direct: INFO has the client as the peer and no header', async () => {
    app = await startServer(pki);
    const { info, localPort } = await infoThrough(app.port);
    expect(info.client).toEqual({ address: '127.0.0.1', port: localPort });
    expect(info.peer).toEqual(info.client);
    expect(info.proxy).toBe(null);
  });
});
