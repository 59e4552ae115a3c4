import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { type Balancer, startHaproxy, startNginxStream } from './balancers.js';
import type { LogCapture } from './log-capture.js';
import { metricValue } from './sockets.js';

/** An HTTP app started in-process for the suite, with its logs and registry. */
export interface ProxyTestApp {
  port: number;
  logs: LogCapture;
  registry: Parameters<typeof metricValue>[0];
  close(): Promise<void>;
}

export interface ProxyProtocolSuiteOptions {
  /** The app's name, for the test titles. */
  app: string;
  /** A route that answers 200 to a plain GET. */
  path: string;
  /** Starts the app in-process on an ephemeral loopback port with `env` on top of its defaults. */
  start(env?: Record<string, string>): Promise<ProxyTestApp>;
}

// The client connects from 127.0.0.2 (all of 127/8 is loopback on Linux),
// the balancer to the app from 127.0.0.1: the header's client and the TCP
// peer differ, so a test can tell which one the app reports.
const CLIENT = '127.0.0.2';

/**
 * PROXY protocol through real balancers (HAProxy send-proxy-v2, nginx stream
 * v1) for an HTTP app whose access line carries `peer` and `client`: the
 * same cases dns-resolver-api and video-streamer each need.
 */
export function proxyProtocolHttpSuite(opts: ProxyProtocolSuiteOptions): void {
  /** GET path from CLIENT on a fresh connection: the status and the client's port. */
  const get = (port: number): Promise<{ status: number; localPort: number }> =>
    new Promise((resolve, reject) => {
      const req = http.get(
        { host: '127.0.0.1', port, path: opts.path, localAddress: CLIENT, agent: false },
        (res) => {
          res.resume();
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, localPort: req.socket?.localPort ?? 0 }),
          );
        },
      );
      req.on('error', reject);
    });

  let app: ProxyTestApp | undefined;
  let balancer: Balancer | undefined;
  afterEach(async () => {
    await balancer?.close();
    await app?.close();
    balancer = undefined;
    app = undefined;
  });

  describe(`${opts.app} behind real balancers (PROXY_PROTOCOL=required)`, () => {
    it('HAProxy send-proxy-v2: the access line carries the peer (HAProxy) and the client from the header', async () => {
      app = await opts.start({ PROXY_PROTOCOL: 'required' });
      balancer = await startHaproxy({ backendPort: app.port, send: 'send-proxy-v2' });
      const { status, localPort } = await get(balancer.port);
      expect(status).toBe(200);
      const line = await app.logs.waitFor((l) => l.msg === 'request' && l.clientPort === localPort);
      expect(line).toMatchObject({
        path: opts.path,
        status: 200,
        peer: '127.0.0.1',
        client: CLIENT,
      });
    });

    it('nginx stream proxy_protocol on (v1): the same', async () => {
      app = await opts.start({ PROXY_PROTOCOL: 'required' });
      balancer = await startNginxStream(app.port);
      const { status, localPort } = await get(balancer.port);
      expect(status).toBe(200);
      const line = await app.logs.waitFor((l) => l.msg === 'request' && l.clientPort === localPort);
      expect(line).toMatchObject({ peer: '127.0.0.1', client: CLIENT });
    });

    it('a client that skips the balancer is closed without an answer, logged and counted', async () => {
      app = await opts.start({ PROXY_PROTOCOL: 'required' });
      await expect(get(app.port)).rejects.toMatchObject({ code: 'ECONNRESET' });
      await app.logs.waitFor(
        (l) => l.msg === 'PROXY protocol: connection refused' && l.reason === 'missing',
      );
      expect(
        await metricValue(app.registry, 'netlab_proxy_protocol_refused_total', 'reason="missing"'),
      ).toBe(1);
    });
  });

  describe(`${opts.app} without the setting`, () => {
    it('PROXY_PROTOCOL=off behind HAProxy send-proxy: the header is not HTTP, 400', async () => {
      app = await opts.start();
      balancer = await startHaproxy({ backendPort: app.port, send: 'send-proxy' });
      expect((await get(balancer.port)).status).toBe(400);
    });

    it('PROXY_PROTOCOL=optional, direct: served as a plain connection, the client is the peer', async () => {
      app = await opts.start({ PROXY_PROTOCOL: 'optional' });
      const { status, localPort } = await get(app.port);
      expect(status).toBe(200);
      const line = await app.logs.waitFor((l) => l.msg === 'request' && l.clientPort === localPort);
      expect(line).toMatchObject({ peer: CLIENT, client: CLIENT });
    });
  });
}
