import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { hostname } from 'node:os';
import { tcpNoDelayOf, waitUntil } from '@netlab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import {
  connect,
  metricValue,
  readUntilClose,
  request,
  type Started,
  startHello,
} from './helpers.js';

let app: Started | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** Sends the head of a request one byte at a time, slower than any deadline here. */
function slowHead(socket: net.Socket): () => void {
  const head = 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ';
  let i = 0;
  socket.write(head[i++]!);
  const drip = setInterval(() => {
    if (!socket.destroyed) socket.write(head[i++ % head.length]!);
  }, 1000);
  return () => clearInterval(drip);
}

describe('header deadline', () => {
  it('still applies with REQUEST_TIMEOUT_MS=0 (no whole-request limit)', async () => {
    app = await startHello({ REQUEST_TIMEOUT_MS: '0', HEADERS_TIMEOUT_MS: '300' });
    const socket = await connect(app.port);
    const reply = readUntilClose(socket);
    const stop = slowHead(socket);
    try {
      expect(await reply).toMatch(/^HTTP\/1\.1 408 [\s\S]*"code":"NETLAB_ERR_REQUEST_TIMEOUT"/);
    } finally {
      stop();
    }
  });

  it('is capped at REQUEST_TIMEOUT_MS when that is shorter', async () => {
    // Node refuses a header deadline past the request deadline: this would not start.
    app = await startHello({ REQUEST_TIMEOUT_MS: '400', HEADERS_TIMEOUT_MS: '600000' });
    const socket = await connect(app.port);
    const reply = readUntilClose(socket);
    const stop = slowHead(socket);
    try {
      expect(await reply).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      stop();
    }
  });
});

describe('client errors', () => {
  it('closes its side after the 400, even when the client keeps its own open', async () => {
    // Long timeouts of its own, so only the answer to the bad request can close it.
    app = await startHello({ KEEP_ALIVE_TIMEOUT_MS: '60000', HEADERS_TIMEOUT_MS: '60000' });
    const socket = net.connect({ port: app.port, host: '127.0.0.1', allowHalfOpen: true });
    await once(socket, 'connect');
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.write('HELLO THERE\r\n\r\n');
    await once(socket, 'end');
    expect(Buffer.concat(chunks).toString()).toMatch(/^HTTP\/1\.1 400 /);
    await waitUntil(() => app!.server.connections === 0, { what: 'the server to close it' });
    socket.destroy();
  });

  it('never writes a second status line into a response already under way (request timeout mid-echo)', async () => {
    app = await startHello({ REQUEST_TIMEOUT_MS: '400', HEADERS_TIMEOUT_MS: '400' });
    const socket = await connect(app.port);
    const reply = readUntilClose(socket);
    // The echo answers 200 as the body starts; the rest never comes.
    socket.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhalf');
    const text = await reply;
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(text.match(/HTTP\/1\.1 \d{3}/g)).toHaveLength(1);
  });
});

describe('connections', () => {
  it('sets TCP_NODELAY on each connection (read back by getsockopt)', async () => {
    app = await startHello();
    const socket = await connect(app.port);
    socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await once(socket, 'data');
    expect(await tcpNoDelayOf(app.port)).toBe(1);
    socket.destroy();
  });

  it('never cuts a quiet connection with IDLE_TIMEOUT_MS=0', async () => {
    app = await startHello({ IDLE_TIMEOUT_MS: '0' });
    // 300 ms without a byte either way: any idle sweep would have cut it.
    const res = await request(`${app.url}/delay/300`);
    expect(res.status).toBe(200);
    expect(await metricValue(app.registry, 'netlab_http_connections_idle_closed_total')).toBe(0);
  });

  it('shows requests in flight and open connections in /metrics', async () => {
    app = await startHello();
    const agent = new http.Agent({ keepAlive: true });
    try {
      const slow = request(`${app.url}/delay/300`);
      await waitUntil(() => app!.server.handler.stats.inFlight === 1);
      expect(await metricValue(app.registry, 'netlab_http_requests_in_flight')).toBe(1);
      expect(await metricValue(app.registry, 'netlab_http_connections_active')).toBe(1);
      await slow;
      await waitUntil(
        async () => (await metricValue(app!.registry, 'netlab_http_connections_active')) === 0,
      );
      expect(await metricValue(app.registry, 'netlab_http_requests_in_flight')).toBe(0);
    } finally {
      agent.destroy();
    }
  });
});

describe('identity', () => {
  it('reports the machine hostname in /whoami unless told another', async () => {
    app = await startHello({}, { hostname: undefined });
    const body = JSON.parse((await request(`${app.url}/whoami`)).body);
    expect(body.hostname).toBe(hostname());
  });
});
