import { afterEach, describe, expect, it } from 'vitest';
import { type Started, startHttps, tlsConnect } from './helpers.js';

let app: Started | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** Raw HTTP/1.1 bytes over TLS, and everything the server sends until it closes. */
async function exchange(port: number, ca: string, request: string): Promise<string> {
  const socket = await tlsConnect(port, { ca, ALPNProtocols: ['http/1.1'] });
  let text = '';
  socket.setEncoding('utf8').on('data', (d: string) => {
    text += d;
  });
  socket.write(request);
  await new Promise((resolve) => socket.once('end', resolve));
  socket.destroy();
  return text;
}

describe('the HTTP guards of http-hello, on HTTP/1.1 over TLS', () => {
  it('refuses a duplicate Host with 400 JSON, HSTS and Connection: close', async () => {
    app = await startHttps({ HSTS_MAX_AGE_S: '600' });
    const text = await exchange(app.port, app.ca, 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toMatch(/\r\nstrict-transport-security: max-age=600\r\n/i);
    expect(text).toMatch(/\r\nconnection: close\r\n/i);
    expect(text).toContain('"code":"NETLAB_ERR_DUPLICATE_HOST"');
  });

  it('never invites an oversized upload: 413 instead of 100 Continue', async () => {
    app = await startHttps({ MAX_BODY_BYTES: '1000' });
    const text = await exchange(
      app.port,
      app.ca,
      'POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1000000\r\n\r\n',
    );
    expect(text).not.toContain('100 Continue');
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(text).toMatch(/\r\nstrict-transport-security: max-age=\d+\r\n/i);
  });

  it("answers a request Node's parser refuses with JSON, and logs it with its reason", async () => {
    app = await startHttps();
    const text = await exchange(
      app.port,
      app.ca,
      'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n',
    );
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toContain('"code":"NETLAB_ERR_BAD_REQUEST"');
    const line = await app.logs.waitFor((l) => l.reason === 'protocol-error');
    expect(line).toMatchObject({ status: 400, code: 'NETLAB_ERR_BAD_REQUEST' });
  });
});
