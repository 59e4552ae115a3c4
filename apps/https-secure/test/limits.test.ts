import { rm } from 'node:fs/promises';
import http from 'node:http';
import { connect } from '@netlab/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { get1, metricValue, type Started, startHttps, tlsConnect, waitUntil } from './helpers.js';

let app: Started;
// Started per test, not once per file: Stryker credits the code a
// beforeAll runs to no test, so the wiring these tests check would go unchecked.
beforeEach(async () => {
  app = await startHttps({
    HTTP_REDIRECT_PORT: '0',
    TLS_HANDSHAKE_TIMEOUT_MS: '300',
    MAX_HEADER_SIZE: '2048',
  });
});
afterEach(() => app.close());

function plainGet(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
    (resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, path, headers, method, agent: false },
        (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => {
            body += d;
          });
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        },
      );
      req.on('error', reject);
      req.end();
    },
  );
}

describe('HTTP_REDIRECT_PORT', () => {
  it('answers plain HTTP with 308 to the same host, path and query over https, without HSTS', async () => {
    const port = app.server.redirectAddress()!.port;
    const res = await plainGet(port, '/whoami?a=1', { host: `localhost:${port}` });
    expect(res.status).toBe(308);
    expect(res.headers.location).toBe(`https://localhost:${app.port}/whoami?a=1`);
    expect(res.headers['strict-transport-security']).toBeUndefined();
    expect(await metricValue(app.registry, 'netlab_http_redirects_total')).toBeGreaterThan(0);
  });

  it('keeps the method: a POST is redirected with 308, which clients repeat as POST', async () => {
    const port = app.server.redirectAddress()!.port;
    const res = await plainGet(port, '/echo', { host: '[::1]' }, 'POST');
    expect(res.status).toBe(308);
    expect(res.headers.location).toBe(`https://[::1]:${app.port}/echo`);
  });

  it('refuses a Host header it cannot put in a Location with 400', async () => {
    const port = app.server.redirectAddress()!.port;
    const res = await plainGet(port, '/', { host: 'evil.example/@x' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'NETLAB_ERR_BAD_REQUEST' });
  });

  it('curl -L follows it to https', async () => {
    const { run, fileIn, tempDir } = await import('./helpers.js');
    const dir = await tempDir('redirect');
    try {
      const caFile = await fileIn(dir, 'ca.pem', app.ca);
      const port = app.server.redirectAddress()!.port;
      const { stdout } = await run('curl', [
        '-sSL',
        '--cacert',
        caFile,
        `http://127.0.0.1:${port}/`,
      ]);
      expect(stdout).toBe('Hello HTTPS\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('limits', () => {
  it('disconnects a client that does not finish its TLS handshake in TLS_HANDSHAKE_TIMEOUT_MS', async () => {
    const socket = await connect(app.port);
    socket.on('error', () => {});
    // Silence: no ClientHello at all.
    await new Promise((resolve) => socket.once('close', resolve));
    await waitUntil(
      async () =>
        (await metricValue(
          app.registry,
          'netlab_tls_handshake_errors_total',
          'ERR_TLS_HANDSHAKE_TIMEOUT',
        )) > 0,
      { what: 'the handshake timeout count' },
    );
  });

  it('answers an HTTP/1.1 head over MAX_HEADER_SIZE with 431 and keeps serving', async () => {
    const res = await get1(`${app.url}/`, { ca: app.ca, headers: { 'x-big': 'x'.repeat(4096) } });
    expect(res.status).toBe(431);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'NETLAB_ERR_HEADERS_TOO_LARGE' });
    expect((await get1(`${app.url}/`, { ca: app.ca })).status).toBe(200);
  });

  it('answers garbage after the handshake with 400 JSON', async () => {
    const socket = await tlsConnect(app.port, { ca: app.ca, ALPNProtocols: ['http/1.1'] });
    let text = '';
    socket.setEncoding('utf8').on('data', (d: string) => {
      text += d;
    });
    socket.write('NOT HTTP AT ALL\r\n\r\n');
    await new Promise((resolve) => socket.once('close', resolve));
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toContain('"code":"NETLAB_ERR_BAD_REQUEST"');
  });
});
