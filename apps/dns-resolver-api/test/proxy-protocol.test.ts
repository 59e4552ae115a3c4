import http from 'node:http';
import { type Balancer, metricValue, startHaproxy, startNginxStream } from '@netlab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { type Started, startApi } from './helpers.js';

// The client connects from 127.0.0.2 (all of 127/8 is loopback on Linux),
// the balancer to the app from 127.0.0.1: the header's client and the TCP
// peer differ, so a test can tell which one the app reports.
const CLIENT = '127.0.0.2';
const PATH = '/';

const start = (env: Record<string, string> = {}) => startApi(env);

/** GET PATH from CLIENT on a fresh connection: the status and the client's port. */
function get(port: number): Promise<{ status: number; localPort: number }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: PATH, localAddress: CLIENT, agent: false },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, localPort: req.socket?.localPort ?? 0 }),
        );
      },
    );
    req.on('error', reject);
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

describe('dns-resolver-api behind real balancers (PROXY_PROTOCOL=required)', () => {
  it('HAProxy send-proxy-v2: the access line carries the peer (HAProxy) and the client from the header', async () => {
    app = await start({ PROXY_PROTOCOL: 'required' });
    balancer = await startHaproxy({ backendPort: app.port, send: 'send-proxy-v2' });
    const { status, localPort } = await get(balancer.port);
    expect(status).toBe(200);
    const line = await app.logs.waitFor((l) => l.msg === 'request' && l.clientPort === localPort);
    expect(line).toMatchObject({ path: PATH, status: 200, peer: '127.0.0.1', client: CLIENT });
  });

  it('nginx stream proxy_protocol on (v1): the same', async () => {
    app = await start({ PROXY_PROTOCOL: 'required' });
    balancer = await startNginxStream(app.port);
    const { status, localPort } = await get(balancer.port);
    expect(status).toBe(200);
    const line = await app.logs.waitFor((l) => l.msg === 'request' && l.clientPort === localPort);
    expect(line).toMatchObject({ peer: '127.0.0.1', client: CLIENT });
  });

  it('a client that skips the balancer is closed without an answer, logged and counted', async () => {
    app = await start({ PROXY_PROTOCOL: 'required' });
    await expect(get(app.port)).rejects.toMatchObject({ code: 'ECONNRESET' });
    await app.logs.waitFor(
      (l) => l.msg === 'PROXY protocol: connection refused' && l.reason === 'missing',
    );
    expect(
      await metricValue(app.registry, 'netlab_proxy_protocol_refused_total', 'reason="missing"'),
    ).toBe(1);
  });
});

describe('dns-resolver-api without the setting', () => {
  it('PROXY_PROTOCOL=off behind HAProxy send-proxy: the header is not HTTP, 400', async () => {
    app = await start();
    balancer = await startHaproxy({ backendPort: app.port, send: 'send-proxy' });
    expect((await get(balancer.port)).status).toBe(400);
  });

  it('PROXY_PROTOCOL=optional, direct: served as a plain connection, the client is the peer', async () => {
    app = await start({ PROXY_PROTOCOL: 'optional' });
    const { status, localPort } = await get(app.port);
    expect(status).toBe(200);
    const line = await app.logs.waitFor((l) => l.msg === 'request' && l.clientPort === localPort);
    expect(line).toMatchObject({ peer: CLIENT, client: CLIENT });
  });
});
