import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { waitUntil } from '@netlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connect,
  metricValue,
  readUntilClose,
  request,
  type Started,
  startHello,
} from './helpers.js';

const exec = promisify(execFile);
const curl = async (...args: string[]) =>
  (await exec('curl', ['-s', ...args], { timeout: 10_000 })).stdout;

let app: Started;
beforeAll(async () => {
  app = await startHello({ MAX_DELAY_MS: '2000', HELLO_MESSAGE: 'Hello HTTP' });
});
afterAll(() => app.close());

describe('GET /', () => {
  it('says hello as text/plain', async () => {
    const res = await request(`${app.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.headers.vary).toBe('Accept');
    expect(res.body).toBe('Hello HTTP\n');
  });

  it.each([
    ['application/json', true],
    ['application/json, */*', true],
    ['application/*', true],
    ['text/plain, application/json;q=0.5', false],
    ['application/json;q=0', false],
    ['*/*', false],
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', false],
  ])('with Accept: %s answers JSON: %s', async (accept, json) => {
    const res = await request(`${app.url}/`, { headers: { accept } });
    expect(res.status).toBe(200);
    if (json) {
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(JSON.parse(res.body)).toEqual({ message: 'Hello HTTP' });
    } else {
      expect(res.body).toBe('Hello HTTP\n');
    }
  });

  it('says the configured HELLO_MESSAGE', async () => {
    const other = await startHello({ HELLO_MESSAGE: 'héllo from "edge-1"' });
    try {
      expect((await request(`${other.url}/`)).body).toBe('héllo from "edge-1"\n');
      const json = await request(`${other.url}/`, { headers: { accept: 'application/json' } });
      expect(JSON.parse(json.body)).toEqual({ message: 'héllo from "edge-1"' });
      expect(Number(json.headers['content-length'])).toBe(Buffer.byteLength(json.body));
    } finally {
      await other.close();
    }
  });
});

describe('HEAD works wherever GET does', () => {
  it.each(['/', '/whoami', '/status/418', '/delay/0', '/nowhere'])(
    'HEAD %s: same status and headers, no body (logged as 0 bytes)',
    async (path) => {
      const get = await request(`${app.url}${path}`);
      const requestId = `head${path.replaceAll('/', '-')}`;
      const head = await request(`${app.url}${path}`, {
        method: 'HEAD',
        headers: { 'x-request-id': requestId },
      });
      expect(head.status).toBe(get.status);
      // Node drops a body written to a HEAD response, so the client cannot
      // tell; the access log says whether the handler sent one.
      const line = await app.logs.waitFor((l) => l.requestId === requestId);
      expect(line).toMatchObject({ method: 'HEAD', status: get.status, bytes: 0 });
      expect(head.headers['content-type']).toBe(get.headers['content-type']);
      // whoami's length differs by the request id and port; the others are fixed.
      if (path !== '/whoami')
        expect(head.headers['content-length']).toBe(get.headers['content-length']);
    },
  );

  it('sends no body on the wire: a response pipelined behind HEAD follows its head directly', async () => {
    const socket = await connect(app.port);
    const reply = readUntilClose(socket);
    socket.write(
      'HEAD / HTTP/1.1\r\nHost: x\r\n\r\n' +
        'GET /status/418 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(await reply).toMatch(/^HTTP\/1\.1 200 OK\r\n(?:[^\r\n]+\r\n)+\r\nHTTP\/1\.1 418 /);
  });

  it('real curl -I', async () => {
    const out = await curl('-I', `${app.url}/`);
    expect(out).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(out).toMatch(/content-length: 11\r\n/i);
  });
});

describe('GET /whoami', () => {
  it('shows what arrived: method, path, query, version, headers as received, both ends, and who answered', async () => {
    const res = await request(`${app.url}/whoami?a=1&a=2&b=`, {
      headers: {
        'X-Forwarded-For': '203.0.113.7, 10.0.0.1',
        'X-Custom': 'one',
      },
    });
    expect(res.status).toBe(200);
    const body = JSON.parse(res.body);
    expect(body).toMatchObject({
      hostname: 'test-host',
      pid: process.pid,
      version: 'test',
      method: 'GET',
      url: '/whoami?a=1&a=2&b=',
      path: '/whoami',
      query: { a: ['1', '2'], b: '' },
      httpVersion: '1.1',
      requestId: res.headers['x-request-id'],
      local: { address: '127.0.0.1', port: app.port },
      remote: { address: '127.0.0.1', family: 'IPv4' },
    });
    expect(body.remote.port).toEqual(expect.any(Number));
    // Shown raw, never trusted: the remote address is the TCP peer, not X-Forwarded-For.
    expect(body.headers['x-forwarded-for']).toBe('203.0.113.7, 10.0.0.1');
    expect(body.rawHeaders).toContain('X-Forwarded-For: 203.0.113.7, 10.0.0.1');
  });

  it('keeps repeated headers and their case (real curl)', async () => {
    const out = await curl(
      '-H',
      'X-Forwarded-For: 198.51.100.1',
      '-H',
      'x-forwarded-for: 198.51.100.2',
      '-H',
      '__proto__: not a setter',
      `${app.url}/whoami`,
    );
    const body = JSON.parse(out);
    expect(body.headers['x-forwarded-for']).toEqual(['198.51.100.1', '198.51.100.2']);
    expect(body.rawHeaders).toEqual(
      expect.arrayContaining(['X-Forwarded-For: 198.51.100.1', 'x-forwarded-for: 198.51.100.2']),
    );
    // An own key like any other, not a prototype swap.
    expect(Object.getOwnPropertyDescriptor(body.headers, '__proto__')?.value).toBe('not a setter');
    expect(body.headers['user-agent']).toMatch(/^curl\//);
  });
});

describe('POST|PUT /echo', () => {
  it.each(['POST', 'PUT'])('%s sends the body back with the same Content-Type', async (method) => {
    const res = await request(`${app.url}/echo`, {
      method,
      headers: { 'content-type': 'application/x-netlab' },
      body: 'some bytes \u00ff',
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-netlab');
    expect(res.body).toBe('some bytes \u00ff');
  });

  it('echoes an empty body', async () => {
    const res = await request(`${app.url}/echo`, { method: 'POST', body: '' });
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
  });
});

describe('GET /status/{code}', () => {
  it.each([200, 201, 302, 404, 418, 500, 503, 599])('answers %i', async (code) => {
    const res = await request(`${app.url}/status/${code}`);
    expect(res.status).toBe(code);
    expect(JSON.parse(res.body)).toMatchObject({ status: code });
  });

  it.each([204, 304])('answers %i with no body at all', async (code) => {
    const res = await request(`${app.url}/status/${code}`);
    expect(res.status).toBe(code);
    expect(res.body).toBe('');
    expect(res.headers['content-length']).toBeUndefined();
  });

  it.each(['199', '600', '100', '0', 'abc', '2000', '', '-1', '200.0'])(
    '/status/%s is 400 NETLAB_ERR_BAD_STATUS',
    async (code) => {
      const res = await request(`${app.url}/status/${code}`);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toEqual({
        error: expect.any(String),
        code: 'NETLAB_ERR_BAD_STATUS',
        status: 400,
      });
    },
  );
});

describe('GET /delay/{ms}', () => {
  it('answers after the delay', async () => {
    const started = performance.now();
    const res = await request(`${app.url}/delay/150`);
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ delayMs: 150 });
  });

  it.each([
    ['2001', 'NETLAB_ERR_DELAY_TOO_LONG'],
    ['99999999999', 'NETLAB_ERR_DELAY_TOO_LONG'],
    ['-5', 'NETLAB_ERR_BAD_DELAY'],
    ['1.5', 'NETLAB_ERR_BAD_DELAY'],
    ['soon', 'NETLAB_ERR_BAD_DELAY'],
  ])('/delay/%s is 400 %s, not a silent clamp', async (ms, code) => {
    const res = await request(`${app.url}/delay/${ms}`);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ code, status: 400 });
  });

  it('frees the timer when the client goes away', async () => {
    const controller = new AbortController();
    const pending = fetch(`${app.url}/delay/300`, {
      signal: controller.signal,
      headers: { 'x-request-id': 'gone-early' },
    }).catch((e) => e);
    await waitUntil(() => app.server.handler.stats.inFlight === 1, {
      what: 'the request to arrive',
    });
    controller.abort();
    await pending;
    // Logged at once as 499: a response was never sent.
    expect(await app.logs.waitFor((l) => l.requestId === 'gone-early')).toMatchObject({
      status: 499,
    });
    expect(app.server.handler.stats.inFlight).toBe(0);
    // By the time a longer delay started afterwards is answered, the 300 ms
    // timer would have fired: it must not have answered (or logged) again.
    expect((await request(`${app.url}/delay/400`)).status).toBe(200);
    expect(app.logs.find((l) => l.requestId === 'gone-early')).toHaveLength(1);
  });
});

describe('errors', () => {
  it('answers an unknown path with 404 {error, code, status}', async () => {
    const res = await request(`${app.url}/nope?x=1`);
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(res.body)).toEqual({
      error: 'not found',
      code: 'NETLAB_ERR_NOT_FOUND',
      status: 404,
    });
  });

  it.each([
    ['DELETE', '/', 'GET, HEAD'],
    ['POST', '/whoami', 'GET, HEAD'],
    ['GET', '/echo', 'POST, PUT'],
    ['HEAD', '/echo', 'POST, PUT'],
    ['PATCH', '/status/200', 'GET, HEAD'],
    ['PUT', '/delay/10', 'GET, HEAD'],
  ])('answers %s %s with 405 and Allow: %s', async (method, path, allow) => {
    const res = await request(`${app.url}${path}`, { method });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe(allow);
    if (method !== 'HEAD') {
      expect(JSON.parse(res.body)).toMatchObject({
        code: 'NETLAB_ERR_METHOD_NOT_ALLOWED',
        status: 405,
      });
    }
  });

  it('never sends a stack trace, even for an error it has no code of its own for', async () => {
    // A space in a header name: Node's parser throws an Error (with a stack)
    // that reaches the server's clientError hook, not the request handler.
    const socket = await connect(app.port);
    const reply = readUntilClose(socket);
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n');
    const text = await reply;
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    const body = text.slice(text.indexOf('\r\n\r\n') + 4);
    expect(JSON.parse(body)).toEqual({
      error: expect.any(String),
      code: 'NETLAB_ERR_BAD_REQUEST',
      status: 400,
    });
    expect(body).not.toMatch(/\n\s+at |Parse Error|HPE_/);
  });
});

describe('X-Request-Id and the access log', () => {
  it('reuses a sane client id and logs one line per request', async () => {
    const res = await request(`${app.url}/status/201?q=1`, {
      headers: { 'x-request-id': 'abc-123.trace:1' },
    });
    expect(res.headers['x-request-id']).toBe('abc-123.trace:1');
    const line = await app.logs.waitFor((l) => l.requestId === 'abc-123.trace:1');
    expect(line).toMatchObject({
      level: 'info',
      msg: 'request',
      method: 'GET',
      path: '/status/201',
      status: 201,
      service: 'http-hello',
      version: 'test',
    });
    expect(line.bytes).toBe(Buffer.byteLength(res.body));
    expect(line.durationMs).toEqual(expect.any(Number));
    expect(app.logs.find((l) => l.requestId === 'abc-123.trace:1')).toHaveLength(1);
  });

  it.each([
    ['too long', 'x'.repeat(129)],
    ['a space', 'a b'],
    ['a quote', 'a"b'],
    ['non-ASCII', 'ïd'],
  ])('replaces a client id with %s by its own', async (_, id) => {
    const res = await request(`${app.url}/`, { headers: { 'x-request-id': id } });
    expect(res.headers['x-request-id']).not.toBe(id);
    expect(res.headers['x-request-id']).toMatch(/^[\w-]+-[0-9a-z]+$/);
  });

  it('generates a distinct id for each request', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++)
      ids.add((await request(`${app.url}/`)).headers['x-request-id'] as string);
    expect(ids.size).toBe(20);
  });

  it('counts requests by route and status in /metrics', async () => {
    const other = await startHello();
    try {
      await request(`${other.url}/`);
      await request(`${other.url}/`);
      await request(`${other.url}/missing`);
      expect(
        await metricValue(other.registry, 'netlab_http_requests_total', 'route="/",status="200"'),
      ).toBe(2);
      expect(
        await metricValue(
          other.registry,
          'netlab_http_requests_total',
          'route="unmatched",status="404"',
        ),
      ).toBe(1);
    } finally {
      await other.close();
    }
  });
});

describe('/whoami on a dual-stack listener', () => {
  it('shows an IPv4 client as IPv4, not as an IPv4-mapped IPv6 address', async (ctx) => {
    let app: Awaited<ReturnType<typeof startHello>>;
    try {
      app = await startHello({ HOST: '::' });
    } catch {
      ctx.skip(); // no IPv6 on this machine: nothing is mapped
      return;
    }
    try {
      const res = await request(`${app.url}/whoami`);
      const body = JSON.parse(res.body);
      expect(body.remote).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
      expect(body.local).toEqual({ address: '127.0.0.1', port: app.port });
    } finally {
      await app.close();
    }
  });
});
