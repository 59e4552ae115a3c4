import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { listen } from '@netlab/common';
import { describe, expect, it } from 'vitest';
import { unmapped, whoami } from '../src/whoami.js';

// A dual-stack listener (HOST unset) sees IPv4 clients as IPv4-mapped IPv6
// addresses. The /whoami test over a real `::` listener skips itself where
// the machine has no IPv6, so the normalising is also tested here, directly.
describe('unmapped (peer addresses as people read them)', () => {
  it.each([
    ['::ffff:127.0.0.1', 'IPv6', { address: '127.0.0.1', family: 'IPv4' }],
    ['::FFFF:192.0.2.33', 'IPv6', { address: '192.0.2.33', family: 'IPv4' }],
    ['::ffff:10.0.0.1', undefined, { address: '10.0.0.1', family: 'IPv4' }],
    ['127.0.0.1', 'IPv4', { address: '127.0.0.1', family: 'IPv4' }],
    ['::1', 'IPv6', { address: '::1', family: 'IPv6' }],
    ['2001:db8::1', 'IPv6', { address: '2001:db8::1', family: 'IPv6' }],
    // Only the exact mapped prefix: these are IPv6 addresses in their own right.
    ['2001:db8::ffff:1.2.3.4', 'IPv6', { address: '2001:db8::ffff:1.2.3.4', family: 'IPv6' }],
    ['::ffff:0:1.2.3.4', 'IPv6', { address: '::ffff:0:1.2.3.4', family: 'IPv6' }],
    ['::ffff:1.2.3', 'IPv6', { address: '::ffff:1.2.3', family: 'IPv6' }],
    ['::ffff:1.2.3.4.5', 'IPv6', { address: '::ffff:1.2.3.4.5', family: 'IPv6' }],
  ])('%s (%s) → %o', (address, family, expected) => {
    expect(unmapped(address, family)).toEqual(expected);
  });

  it('leaves out a family it was not given, and keeps an unknown address unknown', () => {
    expect(unmapped('192.0.2.1')).toStrictEqual({ address: '192.0.2.1' });
    expect(unmapped(undefined, 'IPv4')).toStrictEqual({ address: undefined, family: 'IPv4' });
    expect(unmapped(undefined)).toStrictEqual({ address: undefined });
  });
});

describe('whoami (over a real HTTP/1.1 connection)', () => {
  async function ask(head: string): Promise<Record<string, unknown>> {
    const server = http.createServer((req, res) => {
      res.end(JSON.stringify(whoami(req, 'id-1', { hostname: 'h', pid: 1, version: 'v' })));
    });
    const { port } = await listen(server, 0, '127.0.0.1');
    try {
      const socket = net.connect({ port, host: '127.0.0.1' });
      const chunks: Buffer[] = [];
      socket.on('data', (d: Buffer) => chunks.push(d));
      socket.write(`${head}Connection: close\r\n\r\n`);
      await once(socket, 'close');
      const text = Buffer.concat(chunks).toString();
      return JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
    } finally {
      server.close();
    }
  }

  it('keeps every repeat of a header and a query key, in order, and the raw lines as sent', async () => {
    const body = await ask(
      'GET /p/q?a=1&a=2&a=3&b HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nx-a: 2\r\nX-a: 3\r\n',
    );
    expect(body).toMatchObject({
      requestId: 'id-1',
      hostname: 'h',
      method: 'GET',
      url: '/p/q?a=1&a=2&a=3&b',
      path: '/p/q',
      query: { a: ['1', '2', '3'], b: '' },
      headers: { host: 'x', 'x-a': ['1', '2', '3'] },
    });
    expect(body.rawHeaders).toEqual(['Host: x', 'X-A: 1', 'x-a: 2', 'X-a: 3', 'Connection: close']);
  });

  it('has an empty query and the whole target as path when there is no "?"', async () => {
    const body = await ask('GET /only/path HTTP/1.1\r\nHost: x\r\n');
    expect(body).toMatchObject({ path: '/only/path', query: {} });
  });
});
