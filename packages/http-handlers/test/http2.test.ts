import { once } from 'node:events';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@netlab/common';
import { LogCapture } from '@netlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpHandler, type HttpHandler } from '../src/index.js';

// https-secure mounts this handler on HTTP/2; h2c (no TLS) exercises the
// same compatibility API without certificates.
let server: http2.Http2Server;
let handler: HttpHandler;
let client: http2.ClientHttp2Session;
const logs = new LogCapture();

beforeAll(async () => {
  handler = createHttpHandler({
    helloMessage: 'Hello HTTP/2',
    maxBodyBytes: 1024,
    maxDelayMs: 1000,
    version: 'test',
    hostname: 'h2-host',
    pid: 1,
    logger: createLogger({ service: 'h2', version: 'test', destination: logs }),
    whoamiExtra: () => ({ tls: null }),
  });
  server = http2.createServer(handler);
  server.on('checkContinue', handler.checkContinue);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  client = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
afterAll(async () => {
  client.close();
  await new Promise((resolve) => server.close(resolve));
});

function h2(headers: http2.OutgoingHttpHeaders, body?: string) {
  return new Promise<{ headers: http2.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const stream = client.request(headers, { endStream: body === undefined });
    let text = '';
    let responseHeaders: http2.IncomingHttpHeaders = {};
    stream.on('response', (h) => {
      responseHeaders = h;
    });
    stream.setEncoding('utf8').on('data', (d: string) => {
      text += d;
    });
    stream.on('end', () => resolve({ headers: responseHeaders, body: text }));
    stream.on('error', reject);
    if (body !== undefined) stream.end(body);
  });
}

describe('the handler over HTTP/2', () => {
  it('says hello, with a request id and no HTTP/1 connection header', async () => {
    const res = await h2({ ':path': '/' });
    expect(res.headers[':status']).toBe(200);
    expect(res.body).toBe('Hello HTTP/2\n');
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
  });

  it('shows the HTTP/2 request in /whoami, with the extra fields', async () => {
    const res = await h2({ ':path': '/whoami?x=1', 'x-forwarded-for': '192.0.2.1' });
    const body = JSON.parse(res.body);
    expect(body).toMatchObject({
      httpVersion: '2.0',
      path: '/whoami',
      query: { x: '1' },
      tls: null,
    });
    expect(body.headers['x-forwarded-for']).toBe('192.0.2.1');
  });

  it('echoes a body and refuses one over the limit', async () => {
    const ok = await h2(
      { ':path': '/echo', ':method': 'POST', 'content-type': 'text/x-h2' },
      'over h2',
    );
    expect(ok.headers[':status']).toBe(200);
    expect(ok.headers['content-type']).toBe('text/x-h2');
    expect(ok.body).toBe('over h2');
    const big = await h2(
      { ':path': '/echo', ':method': 'POST', 'content-length': '2000' },
      'x'.repeat(2000),
    );
    expect(big.headers[':status']).toBe(413);
    expect(JSON.parse(big.body)).toMatchObject({ code: 'NETLAB_ERR_BODY_TOO_LARGE' });
  });

  it('keeps HTTP/1 headers out of HTTP/2 responses while draining', async () => {
    // Connection: close is an HTTP/1 header; HTTP/2 forbids it (RFC 9113 §8.2.2).
    handler.drain();
    const res = await h2({ ':path': '/status/201' });
    expect(res.headers[':status']).toBe(201);
    expect(res.headers.connection).toBeUndefined();
  });
});
