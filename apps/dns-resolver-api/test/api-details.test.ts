import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { LookupFn } from '../src/lookup.js';
import { request, type Started, useFixtureApi } from './helpers.js';

// What the HTTP side of the API promises in its details: the batch body's
// exact shape and its use of the cache, keep-alive after a batch, a
// Content-Length at the limit, /lookup's first address, the access line
// of a HEAD, the clipped echo of a bad IP.

const { api, fixture } = useFixtureApi();

const post = (a: Started, body: string, headers: Record<string, string> = {}) =>
  request(`${a.url}/resolve`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });

describe('POST /resolve', () => {
  it('answers with one JSON line: an array of one object per query, no newline inside', async () => {
    const a = await api();
    const res = await post(a, '[{"name":"www.netlab.test"},{"name":"bad..name"}]');
    expect(res.status).toBe(200);
    expect(res.body.indexOf('\n')).toBe(res.body.length - 1);
    expect(res.json).toHaveLength(2);
    expect(res.json[1]).toMatchObject({ code: 'NETLAB_ERR_BAD_NAME' });
  });

  it('answers a query of a batch from the cache, as GET does', async () => {
    const a = await api();
    const name = 'batch-cached.netlab.test';
    fixture().set(name, {
      rcode: 0,
      answers: [{ name, type: 'A', ttl: 300, data: '192.0.2.44' }],
      authorities: [],
    });
    try {
      expect((await request(`${a.url}/resolve?name=${name}`)).json.cached).toBe(false);
      const res = await post(a, JSON.stringify([{ name }, { name, type: 'A' }]));
      expect(res.json.map((r: { cached: boolean }) => r.cached)).toEqual([true, true]);
      expect(fixture().count('A', name)).toBe(1);
    } finally {
      fixture().set(name, undefined);
    }
  });

  it('a Content-Length of exactly MAX_BODY_BYTES is read; one byte more is refused before reading', async () => {
    const a = await api({ MAX_BODY_BYTES: '64' });
    const body = JSON.stringify([{ name: 'www.netlab.test' }]);
    const exact = body.padEnd(64, ' ');
    expect(Buffer.byteLength(exact)).toBe(64);
    const ok = await post(a, exact, { 'content-length': '64' });
    expect(ok.status).toBe(200);
    const over = await post(a, `${exact} `, { 'content-length': '65' });
    expect(over.status).toBe(413);
    expect(over.json.code).toBe('NETLAB_ERR_BODY_TOO_LARGE');
  });
});

describe('GET /lookup', () => {
  const two: LookupFn = async () => [
    { address: '192.0.2.1', family: 4 },
    { address: '2001:db8::1', family: 6 },
  ];

  it('without all=true: the first address getaddrinfo gives, as a connecting program would use', async () => {
    const a = await api({}, { lookup: two });
    const res = await request(`${a.url}/lookup?name=two.example`);
    expect(res.json.addresses).toEqual([{ address: '192.0.2.1', family: 4 }]);
    const all = await request(`${a.url}/lookup?name=two.example&all=true`);
    expect(all.json.addresses).toHaveLength(2);
  });
});

describe('access lines', () => {
  it('a HEAD is logged with 0 bytes sent', async () => {
    const a = await api();
    const res = await request(`${a.url}/resolve?name=www.netlab.test`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(Number(res.headers['content-length'])).toBeGreaterThan(0);
    const line = await a.logs.waitFor((l) => l.msg === 'request' && l.method === 'HEAD');
    expect(line).toMatchObject({ status: 200, bytes: 0 });
  });
});

describe('GET /reverse', () => {
  it('quotes at most 60 characters of a bad ip in its refusal', async () => {
    const a = await api();
    const ip = `1${'2'.repeat(99)}`;
    const res = await request(`${a.url}/reverse?ip=${ip}`);
    expect(res.status).toBe(400);
    expect(res.json.detail).toContain(`${ip.slice(0, 57)}...`);
    expect(res.json.detail).not.toContain(ip.slice(0, 58));
  });
});

describe('keep-alive after a batch (its body was read)', () => {
  it('a batch then a GET are answered on one socket', async () => {
    const a = await api();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const ports: number[] = [];
    const ask = (method: string, path: string, body?: string) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request(
          `${a.url}${path}`,
          { method, agent, headers: body ? { 'content-type': 'application/json' } : {} },
          (res) => {
            ports.push((req.socket!.address() as AddressInfo).port);
            res.resume();
            res.on('end', () => resolve(res.statusCode!));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    try {
      expect(await ask('POST', '/resolve', '[{"name":"www.netlab.test"}]')).toBe(200);
      expect(await ask('GET', '/resolve?name=www.netlab.test')).toBe(200);
      expect(ports[0]).toBe(ports[1]);
    } finally {
      agent.destroy();
    }
  });
});
