import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { createLogger } from '@netlab/common';
import { LogCapture } from '@netlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpHandler, type HttpErrorCode, installHttpGuards } from '../src/index.js';
import { writeTestCertificate } from './test-certificate.js';

// https-secure serves HTTP/1.1 and HTTP/2 from http2.createSecureServer with
// allowHTTP1: the guards must work there as on http.Server, so it inherits
// every fix by calling installHttpGuards. Raw HTTP/1.1 bytes over TLS here.

let server: http2.Http2SecureServer;
let port: number;
const logs = new LogCapture();
const clientErrors: HttpErrorCode[] = [];
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'guards-'));
  writeTestCertificate(dir);
  const handler = createHttpHandler({
    helloMessage: 'Hello TLS',
    maxBodyBytes: 1024,
    maxDelayMs: 1000,
    version: 'test',
    hostname: 'tls-host',
    pid: 1,
    logger: createLogger({ service: 'guards', version: 'test', destination: logs }),
  });
  server = http2.createSecureServer(
    {
      key: readFileSync(join(dir, 'key.pem')),
      cert: readFileSync(join(dir, 'cert.pem')),
      allowHTTP1: true,
    },
    handler,
  );
  installHttpGuards(server, handler, { onClientError: (code) => clientErrors.push(code) });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** Raw HTTP/1.1 over TLS: sends `request`, returns what came back until the server closed. */
async function overTls(request: string): Promise<{ text: string; end: string }> {
  const socket = tls.connect({
    port,
    host: '127.0.0.1',
    rejectUnauthorized: false,
    ALPNProtocols: ['http/1.1'],
  });
  await once(socket, 'secureConnect');
  let text = '';
  let end = 'open';
  socket.on('data', (d: Buffer) => {
    text += d.toString('latin1');
  });
  socket.on('end', () => {
    end = 'eof';
  });
  socket.on('error', (err: NodeJS.ErrnoException) => {
    end = err.code ?? 'error';
  });
  socket.write(request);
  const timer = setTimeout(() => socket.destroy(), 5000);
  await once(socket, 'close');
  clearTimeout(timer);
  return { text, end };
}

describe('installHttpGuards on http2.createSecureServer({ allowHTTP1: true })', () => {
  it.each([
    [
      'a duplicate Host',
      'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
      400,
      'NETLAB_ERR_DUPLICATE_HOST',
    ],
    [
      'Expect: 200-ok',
      'GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n',
      417,
      'NETLAB_ERR_EXPECTATION_FAILED',
    ],
    [
      'a bad chunk size',
      'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      400,
      'NETLAB_ERR_BAD_REQUEST',
    ],
    [
      'Transfer-Encoding: identity, chunked',
      'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n',
      501,
      'NETLAB_ERR_UNSUPPORTED_TRANSFER_ENCODING',
    ],
    [
      'CONNECT',
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
      405,
      'NETLAB_ERR_NOT_A_PROXY',
    ],
    ['an HTTP/0.9 simple request', 'GET /\r\n', 400, 'NETLAB_ERR_NO_HTTP_VERSION'],
    [
      'an oversized upload asking for 100 Continue',
      'POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n',
      413,
      'NETLAB_ERR_BODY_TOO_LARGE',
    ],
  ])('answers %s with JSON and a clean close', async (_name, request, status, code) => {
    const { text, end } = await overTls(request);
    expect(text).not.toContain('100 Continue');
    expect(text).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({ code, status });
    expect(end).toBe('eof');
    await logs.waitFor((l) => l.msg === 'request' && l.code === code && l.status === status);
  });

  it('counts what the parser refused through onClientError', () => {
    expect(clientErrors).toContain('NETLAB_ERR_BAD_REQUEST');
  });

  it('still serves HTTP/2 requests, which carry no Host', async () => {
    const client = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
    const stream = client.request({ ':path': '/' });
    let body = '';
    stream.setEncoding('utf8').on('data', (d: string) => {
      body += d;
    });
    const [headers] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
    await once(stream, 'end');
    client.close();
    expect(headers[':status']).toBe(200);
    expect(body).toBe('Hello TLS\n');
  });
});
