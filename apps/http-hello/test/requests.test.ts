import { once } from 'node:events';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, readUntilClose, request, type Started, startHello } from './helpers.js';

// Less common requests every endpoint must still get right.
let app: Started;
beforeAll(async () => {
  app = await startHello({ MAX_BODY_BYTES: '1024' });
});
afterAll(() => app.close());

/** One raw HTTP/1.1 exchange on its own connection, the reply as text. */
async function raw(text: string): Promise<string> {
  const socket = await connect(app.port);
  const reply = readUntilClose(socket);
  socket.write(text);
  return reply;
}

describe('request targets', () => {
  it('routes an absolute-form target (a client treating us as a proxy) by its path', async () => {
    const text = await raw(
      'GET http://example.test/status/418?x=1 HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n',
    );
    expect(text).toMatch(/^HTTP\/1\.1 418 /);
  });

  it('routes a target it cannot parse as a URL by what it is, a path that does not exist', async () => {
    const text = await raw('GET http://[bad HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 404 [\s\S]*"code":"NETLAB_ERR_NOT_FOUND"/);
  });
});

describe('/status/{code}', () => {
  it('names the reason phrase when HTTP has one, and leaves it out when not', async () => {
    expect(JSON.parse((await request(`${app.url}/status/418`)).body)).toEqual({
      status: 418,
      reason: "I'm a Teapot",
    });
    expect(JSON.parse((await request(`${app.url}/status/599`)).body)).toEqual({ status: 599 });
  });

  it('answers 205 with Content-Length: 0 and no body', async () => {
    const res = await request(`${app.url}/status/205`);
    expect(res.status).toBe(205);
    expect(res.headers['content-length']).toBe('0');
    expect(res.body).toBe('');
  });
});

describe('/echo', () => {
  it('calls a body without Content-Type application/octet-stream, and keeps its length', async () => {
    const text = await raw(
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello',
    );
    expect(text).toMatch(/\r\ncontent-type: application\/octet-stream\r\n/i);
    expect(text).toMatch(/\r\ncontent-length: 5\r\n/i);
    expect(text).toMatch(/\r\n\r\nhello$/);
  });

  it('invites a body within the limit with 100 Continue and echoes it', async () => {
    const req = http.request(`${app.url}/echo`, {
      method: 'POST',
      headers: { expect: '100-continue', 'content-length': 4, 'x-request-id': 'continued' },
      agent: false,
    });
    await once(req, 'continue');
    req.end('ping');
    const [res] = (await once(req, 'response')) as [http.IncomingMessage];
    let body = '';
    for await (const chunk of res) body += chunk;
    expect(res.statusCode).toBe(200);
    expect(body).toBe('ping');
  });

  it('keeps the client id on a body refused before it was sent', async () => {
    const text = await raw(
      'POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2048\r\nX-Request-Id: too-big-1\r\n\r\n',
    );
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(text).toMatch(/\r\nx-request-id: too-big-1\r\n/i);
    expect(text).not.toMatch(/100 Continue/);
    const line = await app.logs.waitFor((l) => l.requestId === 'too-big-1');
    expect(line).toMatchObject({ status: 413, code: 'NETLAB_ERR_BODY_TOO_LARGE', path: '/echo' });
  });

  // nginx logs the same (400, "client prematurely closed connection while
  // reading client request body"): the request itself is incomplete.
  it('logs an echo whose client left mid-body as a 400 protocol error with the bytes it got', async () => {
    const socket = await connect(app.port);
    socket.on('error', () => {});
    socket.write(
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nX-Request-Id: abandoned\r\n\r\n12345',
    );
    await once(socket, 'data'); // the 200 head and the first bytes are out
    socket.destroy();
    const line = await app.logs.waitFor((l) => l.requestId === 'abandoned');
    expect(line).toMatchObject({ status: 400, bytes: 5, reason: 'protocol-error' });
  });
});
