import { once } from 'node:events';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { createLogger } from '@netlab/common';
import { LogCapture } from '@netlab/testkit';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerClientErrors, type HttpErrorCode, simpleRequestLine } from '../src/index.js';

describe('simpleRequestLine', () => {
  it.each([
    ['GET /\r\n', { method: 'GET', path: '/' }],
    ['GET /a?b=c\n', { method: 'GET', path: '/a?b=c' }],
    ['\r\n\nDELETE /x\r\nHost: a\r\n\r\n', { method: 'DELETE', path: '/x' }],
    ['GET http://h/p\r\n', { method: 'GET', path: 'http://h/p' }],
  ])('finds the simple request in %j', (bytes, line) => {
    expect(simpleRequestLine(Buffer.from(bytes, 'latin1'))).toEqual(line);
  });

  it.each([
    'GET / HTTP/1.1\r\n',
    'GET / HTTP/0.9\r\n',
    'GET /', // the line has not ended yet
    'GET /\r',
    'GET\r\n',
    'GET  /\r\n',
    'GET / \r\n',
    '\r\n',
    '',
    'G(T /\r\n',
  ])('finds none in %j', (bytes) => {
    expect(simpleRequestLine(Buffer.from(bytes, 'latin1'))).toBeUndefined();
  });

  it('cuts a long target to 1,024 characters for the log', () => {
    const target = `/${'a'.repeat(5000)}`;
    expect(simpleRequestLine(Buffer.from(`GET ${target}\r\n`))?.path).toBe(target.slice(0, 1024));
  });

  it('never takes an HTTP/1.x request line, however it is cut', () => {
    const token = fc.stringMatching(/^[A-Z]{1,10}$/);
    const target = fc.stringMatching(/^\/[!-~]{0,40}$/);
    fc.assert(
      fc.property(token, target, fc.constantFrom('1.0', '1.1'), fc.nat(60), (m, t, v, cut) => {
        const line = Buffer.from(`${m} ${t} HTTP/${v}\r\nHost: a\r\n\r\n`, 'latin1');
        expect(simpleRequestLine(line.subarray(0, Math.min(cut, line.length)))).toBeUndefined();
        expect(simpleRequestLine(line)).toBeUndefined();
      }),
    );
  });
});

// dns-resolver-api and video-streamer: a plain http.Server with answerClientErrors.
describe('answerClientErrors on http.Server', () => {
  let server: http.Server;
  let port: number;
  const logs = new LogCapture();
  const counted: HttpErrorCode[] = [];

  beforeAll(async () => {
    server = http.createServer({ headersTimeout: 60_000, requestTimeout: 60_000 }, (_req, res) =>
      res.end('ok'),
    );
    answerClientErrors(server, {
      logger: createLogger({ service: 'test', version: 'test', destination: logs }),
      onClientError: (code) => counted.push(code),
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  async function wire(bytes: string): Promise<string> {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
    });
    socket.on('error', () => {});
    socket.write(bytes);
    const timer = setTimeout(() => socket.destroy(), 5000);
    await once(socket, 'close');
    clearTimeout(timer);
    return text;
  }

  it('answers an HTTP/0.9 simple request with 400 at once, logged and counted', async () => {
    const text = await wire('GET /\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({
      code: 'NETLAB_ERR_NO_HTTP_VERSION',
      status: 400,
    });
    expect(counted).toEqual(['NETLAB_ERR_NO_HTTP_VERSION']);
    await logs.waitFor((l) => l.code === 'NETLAB_ERR_NO_HTTP_VERSION');
  });

  it('answers a malformed request with its JSON error', async () => {
    const text = await wire('GET / HTTP/1.1\r\nBad Header\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toContain('"code":"NETLAB_ERR_BAD_REQUEST"');
  });

  it('serves a well-formed request', async () => {
    const text = await wire('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 200 [\s\S]*ok$/);
  });
});
