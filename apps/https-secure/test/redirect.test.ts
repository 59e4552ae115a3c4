import http from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { redirectHandler } from '../src/redirect.js';

// The redirect listener's handler on its own, so the HTTPS port can be 443
// (left out of the Location) without binding it. limits.test.ts runs it
// inside the app.

let server: http.Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

async function start(httpsPort: number): Promise<{ port: number; redirects: () => number }> {
  let redirects = 0;
  server = http.createServer(
    redirectHandler(
      () => httpsPort,
      () => redirects++,
    ),
  );
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, redirects: () => redirects };
}

/** The raw answer to a raw request: the status line, headers and body as sent. */
async function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1').on('data', (d: string) => {
      text += d;
    });
    socket.on('error', reject);
    socket.on('end', () => resolve(text));
    socket.end(request);
  });
}

describe('redirectHandler', () => {
  it('308 with the Location, a text body naming it and its exact length', async () => {
    const { port, redirects } = await start(8443);
    const text = await raw(
      port,
      'GET /a/b?c=1 HTTP/1.1\r\nHost: example.test:8080\r\nConnection: close\r\n\r\n',
    );
    const [head, body] = text.split('\r\n\r\n');
    expect(head!.split('\r\n')[0]).toBe('HTTP/1.1 308 Permanent Redirect');
    expect(head).toContain('\r\nlocation: https://example.test:8443/a/b?c=1\r\n');
    expect(head).toContain('\r\ncontent-type: text/plain; charset=utf-8\r\n');
    expect(body).toBe('Redirecting to https://example.test:8443/a/b?c=1\n');
    expect(head).toContain(`\r\ncontent-length: ${Buffer.byteLength(body!)}\r\n`);
    expect(redirects()).toBe(1);
  });

  it('leaves the port out when HTTPS is on 443', async () => {
    const { port } = await start(443);
    const text = await raw(
      port,
      'GET /x HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n',
    );
    expect(text).toContain('\r\nlocation: https://example.test/x\r\n');
  });

  it('answers HEAD with the headers and no body', async () => {
    const { port } = await start(8443);
    const text = await raw(port, 'HEAD /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
    expect(text.startsWith('HTTP/1.1 308 ')).toBe(true);
    expect(text.endsWith('\r\n\r\n')).toBe(true);
    expect(text).toContain(
      `\r\ncontent-length: ${Buffer.byteLength('Redirecting to https://h:8443/x\n')}\r\n`,
    );
  });

  it('a request target that is not a path (absolute form) is sent to /', async () => {
    const { port } = await start(8443);
    const text = await raw(
      port,
      'GET http://other.test/secret HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n',
    );
    expect(text).toContain('\r\nlocation: https://h:8443/\r\n');
  });

  it.each([
    ['no Host header', 'GET / HTTP/1.0\r\n\r\n'],
    ['a Host that is not a name', 'GET / HTTP/1.1\r\nHost: evil.test/@x\r\n\r\n'],
  ])('refuses %s with 400 JSON and closes, counting no redirect', async (_, request) => {
    const { port, redirects } = await start(8443);
    const text = await raw(port, request);
    const [head, body] = text.split('\r\n\r\n');
    expect(head!.split('\r\n')[0]).toMatch(/^HTTP\/1\.[01] 400 Bad Request$/);
    expect(head).toContain('\r\ncontent-type: application/json; charset=utf-8\r\n');
    expect(head).toContain('\r\nconnection: close\r\n');
    expect(head).toContain(`\r\ncontent-length: ${Buffer.byteLength(body!)}\r\n`);
    expect(JSON.parse(body!)).toEqual({
      error: 'expected a Host header to redirect to',
      code: 'NETLAB_ERR_BAD_REQUEST',
      status: 400,
    });
    expect(redirects()).toBe(0);
  });
});
