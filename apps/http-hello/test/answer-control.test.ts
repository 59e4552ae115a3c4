import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connect,
  metricValue,
  readUntilClose,
  request,
  type Started,
  startHello,
} from './helpers.js';

// Answer control on a real server: the parsing is tested in
// @netlab/http-handlers; here, what reaches the client, the log and /metrics.
let app: Started;
beforeAll(async () => {
  app = await startHello({
    MAX_DELAY_MS: '2000',
    MAX_ANSWER_BYTES: '300000',
    MAX_ANSWER_HEADERS: '2',
  });
});
afterAll(() => app.close());

const faults = (kind: string) =>
  metricValue(app.registry, 'netlab_http_injected_faults_total', `kind="${kind}"`);

describe('answer control', () => {
  it('?status= replaces the status of GET /, keeps its body, and is logged and counted', async () => {
    const before = await faults('status');
    const res = await request(`${app.url}/?status=503`);
    expect(res.status).toBe(503);
    expect(res.body).toBe('Hello HTTP\n');
    const id = res.headers['x-request-id'];
    const line = await app.logs.waitFor((l) => l.requestId === id);
    expect(line.status).toBe(503);
    expect(line.faults).toBe('status');
    expect(await faults('status')).toBe(before + 1);
  });

  it('X-Netlab-Status does the same for a client that cannot change the URL', async () => {
    const res = await request(`${app.url}/whoami`, { headers: { 'x-netlab-status': '429' } });
    expect(res.status).toBe(429);
    expect(JSON.parse(res.body).hostname).toBe('test-host');
  });

  it('a 204 answer carries no body and no Content-Length', async () => {
    const res = await request(`${app.url}/?status=204`);
    expect(res.status).toBe(204);
    expect(res.body).toBe('');
    expect(res.headers['content-length']).toBeUndefined();
    expect(res.headers['content-type']).toBeUndefined();
  });

  it('?delay= waits that long before answering', async () => {
    const started = performance.now();
    const res = await request(`${app.url}/?delay=300ms`);
    expect(res.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(295);
  });

  it('?size= answers exactly that many bytes, streamed past one write', async () => {
    for (const size of [0, 10, 300_000]) {
      const res = await request(`${app.url}/?size=${size}`);
      expect(res.status).toBe(200);
      expect(res.headers['content-length']).toBe(String(size));
      expect(Buffer.byteLength(res.body)).toBe(size);
    }
    const head = await request(`${app.url}/?size=300000`, { method: 'HEAD' });
    expect(head.headers['content-length']).toBe('300000');
    expect(head.body).toBe('');
  });

  it('?header= adds sanitised headers', async () => {
    const res = await request(`${app.url}/?header=X-Pod:a&header=Cache-Control:max-age=5`);
    expect(res.headers['x-pod']).toBe('a');
    expect(res.headers['cache-control']).toBe('max-age=5');
  });

  it('?close closes the connection after a complete answer', async () => {
    const socket = await connect(app.port);
    socket.write('GET /?close HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const text = await readUntilClose(socket);
    expect(text.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
    expect(text).toContain('\r\nconnection: close\r\n');
    expect(text.endsWith('\r\n\r\nHello HTTP\n')).toBe(true);
    // The pipelined second request is not answered.
    expect(text.split('HTTP/1.1 ').length).toBe(2);
  });

  it('applies to POST /echo: status and headers on the echo, size instead of it', async () => {
    const echoed = await request(`${app.url}/echo?status=202&header=X-A:1`, {
      method: 'POST',
      body: 'ping',
    });
    expect(echoed.status).toBe(202);
    expect(echoed.headers['x-a']).toBe('1');
    expect(echoed.body).toBe('ping');
    const sized = await request(`${app.url}/echo?size=3`, { method: 'POST', body: 'ping' });
    expect(sized.status).toBe(200);
    expect(sized.body).toBe('abc');
    expect(sized.headers.connection).toBe('close');
  });

  it('only= targets one replica: another hostname or pid answers as usual', async () => {
    expect((await request(`${app.url}/?status=500&only=test-host`)).status).toBe(500);
    expect((await request(`${app.url}/?status=500&only=${process.pid}`)).status).toBe(500);
    expect((await request(`${app.url}/?status=500&only=other-host`)).status).toBe(200);
  });

  it('seed= gives the same outcome for the same seed', async () => {
    const outcomes = async (seed: string) =>
      (await request(`${app.url}/?status=503:50&seed=${seed}`)).status;
    expect(await outcomes('a')).toBe(200);
    expect(await outcomes('a')).toBe(200);
    expect(await outcomes('b')).toBe(503);
    expect(await outcomes('b')).toBe(503);
  });

  it.each([
    ['/?delay=2001ms', 'delay', 'NETLAB_ERR_CONTROL_OUT_OF_RANGE'],
    ['/?size=300001', 'size', 'NETLAB_ERR_CONTROL_OUT_OF_RANGE'],
    ['/?header=A:1&header=B:2&header=C:3', 'header', 'NETLAB_ERR_CONTROL_OUT_OF_RANGE'],
    ['/?header=Transfer-Encoding:chunked', 'header', 'NETLAB_ERR_BAD_CONTROL'],
    ['/?status=700', 'status', 'NETLAB_ERR_CONTROL_OUT_OF_RANGE'],
  ])('%s is a 400 naming %s', async (path, parameter, code) => {
    const res = await request(`${app.url}${path}`);
    expect(res.status).toBe(400);
    const body = JSON.parse(res.body);
    expect(body.code).toBe(code);
    expect(body.parameter).toBe(parameter);
    expect(body.error.startsWith(`${parameter}: `)).toBe(true);
  });

  it('a CR LF in an added header never reaches the wire', async () => {
    const socket = await connect(app.port);
    socket.write(
      'GET /?header=X-A:a%0d%0aSet-Cookie:%20x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    const text = await readUntilClose(socket);
    expect(text.startsWith('HTTP/1.1 400 Bad Request\r\n')).toBe(true);
    expect(text.toLowerCase()).not.toContain('set-cookie');
  });

  it('a client that leaves during a delay is logged as gone (499)', async () => {
    const socket = await connect(app.port);
    socket.write('GET /?delay=2s HTTP/1.1\r\nHost: x\r\nX-Request-Id: left-early\r\n\r\n');
    socket.destroy();
    await once(socket, 'close');
    const line = await app.logs.waitFor((l) => l.requestId === 'left-early');
    expect(line.status).toBe(499);
  });

  it('leaves /status and refusals alone', async () => {
    expect((await request(`${app.url}/status/201?status=500`)).status).toBe(201);
    expect((await request(`${app.url}/nope?status=500`)).status).toBe(404);
    expect((await request(`${app.url}/?status=500`, { method: 'DELETE' })).status).toBe(405);
  });
});

describe('ANSWER_CONTROL=false', () => {
  let off: Started;
  beforeAll(async () => {
    off = await startHello({ ANSWER_CONTROL: 'false', MAX_DELAY_MS: '2000' });
  });
  afterAll(() => off.close());

  it('ignores every control in the query: the plain answer, not logged or counted as a fault', async () => {
    const before = await metricValue(
      off.registry,
      'netlab_http_injected_faults_total',
      'kind="status"',
    );
    const res = await request(`${off.url}/?status=503&size=5&header=X-Pod:a&close&delay=99s`);
    expect(res.status).toBe(200);
    expect(res.body).toBe('Hello HTTP\n');
    expect(res.headers['x-pod']).toBeUndefined();
    const line = await off.logs.waitFor((l) => l.requestId === res.headers['x-request-id']);
    expect(line.status).toBe(200);
    expect(line.faults).toBeUndefined();
    expect(
      await metricValue(off.registry, 'netlab_http_injected_faults_total', 'kind="status"'),
    ).toBe(before);
  });

  it('ignores close: a pipelined request behind it is answered too', async () => {
    const socket = await connect(off.port);
    socket.write(
      'GET /?close HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    const text = await readUntilClose(socket);
    expect(text.split('HTTP/1.1 200 OK\r\n').length).toBe(3);
  });

  it('ignores X-Netlab-* request headers', async () => {
    const res = await request(`${off.url}/whoami`, {
      headers: { 'x-netlab-status': '429', 'x-netlab-header': 'Retry-After: 1' },
    });
    expect(res.status).toBe(200);
    expect(res.headers['retry-after']).toBeUndefined();
  });

  it('leaves /status/{code} and /delay/{ms} working', async () => {
    expect((await request(`${off.url}/status/503`)).status).toBe(503);
    expect((await request(`${off.url}/delay/10`)).status).toBe(200);
  });
});
