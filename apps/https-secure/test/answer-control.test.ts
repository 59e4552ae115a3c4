import { once } from 'node:events';
import http2 from 'node:http2';
import https from 'node:https';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { get1, get2, h2request, metricValue, type Started, startHttps } from './helpers.js';

// The shared handler's answer control (tested in full on http-hello), over
// both HTTP versions here: HTTP/2 has no Connection header, so `close` is a GOAWAY.
let app: Started;
// Started per test, not once per file: Stryker credits the code a
// beforeAll runs to no test, so the wiring these tests check would go unchecked.
beforeEach(async () => {
  app = await startHttps({ MAX_DELAY_MS: '1000' });
});
afterEach(() => app.close());

describe('answer control over TLS', () => {
  it('HTTP/1.1: status, headers and size', async () => {
    const res = await get1(`${app.url}/?status=503&header=X-Pod:a&size=7`, { ca: app.ca });
    expect(res.status).toBe(503);
    expect(res.headers['x-pod']).toBe('a');
    expect(res.body).toBe('abcdefg');
    expect(res.headers['strict-transport-security']).toBe('max-age=300');
  });

  it('HTTP/2: status and headers from X-Netlab- request headers', async () => {
    const faults = () =>
      metricValue(app.registry, 'netlab_http_injected_faults_total', 'kind="header"');
    const before = await faults();
    const res = await get2(`${app.url}/whoami`, {
      ca: app.ca,
      headers: { 'x-netlab-status': '429', 'x-netlab-header': 'Retry-After: 1' },
    });
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('1');
    expect(await faults()).toBe(before + 1);
  });

  it('HTTP/2: close sends GOAWAY after a complete answer', async () => {
    const session = http2.connect(app.url, { ca: app.ca });
    const goaway = once(session, 'goaway');
    const res = await h2request(session, '/?close');
    expect(res.status).toBe(200);
    expect(res.body).toBe('Hello HTTPS\n');
    const [code] = await goaway;
    expect(code).toBe(http2.constants.NGHTTP2_NO_ERROR);
    session.close();
  });

  it('HTTP/2: an out-of-range delay is a 400 naming it', async () => {
    const res = await get2(`${app.url}/?delay=2s`, { ca: app.ca });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({
      code: 'NETLAB_ERR_CONTROL_OUT_OF_RANGE',
      parameter: 'delay',
    });
  });
});

describe('ANSWER_CONTROL=false over TLS', () => {
  it('ignores the controls on HTTP/1.1 and HTTP/2, and on /ws', async () => {
    const off = await startHttps({ ANSWER_CONTROL: 'false' });
    try {
      const h1 = await get1(`${off.url}/?status=503&header=X-Pod:a`, { ca: off.ca });
      expect(h1.status).toBe(200);
      expect(h1.headers['x-pod']).toBeUndefined();
      const h2 = await get2(`${off.url}/whoami`, {
        ca: off.ca,
        headers: { 'x-netlab-status': '429' },
      });
      expect(h2.status).toBe(200);
      // On /ws an out-of-range control is not even read: 101, not 400.
      const req = https.request(`${off.url}/ws?delay=99s`, {
        ca: off.ca,
        headers: {
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        },
      });
      req.end();
      const status = await new Promise<number | undefined>((resolve, reject) => {
        req.on('upgrade', (res, socket) => {
          socket.destroy();
          resolve(res.statusCode);
        });
        req.on('response', (res) => resolve(res.statusCode));
        req.on('error', reject);
      });
      expect(status).toBe(101);
    } finally {
      await off.close();
    }
  });
});
