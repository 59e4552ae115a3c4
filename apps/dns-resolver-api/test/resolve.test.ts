import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startFixtureDns, startSilentDns } from './fixture-dns.js';
import {
  metricValue,
  type Reply,
  request,
  type Started,
  startApi,
  useFixtureApi,
} from './helpers.js';

const { api, fixture } = useFixtureApi();
const resolve = (a: Started, query: string) => request(`${a.url}/resolve?${query}`);

describe('GET /resolve answers every supported type in dns-json shape', () => {
  it.each([
    [
      'example.netlab.test',
      'A',
      1,
      [
        { TTL: 300, data: '192.0.2.10' },
        { TTL: 120, data: '192.0.2.11' },
      ],
    ],
    ['example.netlab.test', 'AAAA', 28, [{ TTL: 300, data: '2001:db8::10' }]],
    ['www.netlab.test', 'CNAME', 5, [{ TTL: 300, data: 'example.netlab.test.' }]],
    ['example.netlab.test', 'MX', 15, [{ TTL: 300, data: '10 mail.netlab.test.' }]],
    ['netlab.test', 'NS', 2, [{ TTL: 3600, data: 'ns1.netlab.test.' }]],
    [
      'example.netlab.test',
      'TXT',
      16,
      [
        { TTL: 300, data: '"v=spf1 -all"' },
        { TTL: 300, data: '"say \\"hi\\"" "two strings"' },
      ],
    ],
    ['_sip._udp.netlab.test', 'SRV', 33, [{ TTL: 300, data: '10 5 5060 sip.netlab.test.' }]],
    ['10.2.0.192.in-addr.arpa', 'PTR', 12, [{ TTL: 300, data: 'example.netlab.test.' }]],
    [
      'netlab.test',
      'SOA',
      6,
      [
        {
          // The record's own TTL, as dig shows it; not the MINIMUM field (300).
          TTL: 3600,
          data: 'ns1.netlab.test. hostmaster.netlab.test. 2026112501 7200 900 1209600 300',
        },
      ],
    ],
    ['example.netlab.test', 'CAA', 257, [{ TTL: 300, data: '0 issue "letsencrypt.org"' }]],
    [
      'sip.netlab.test',
      'NAPTR',
      35,
      [{ TTL: 300, data: '100 10 "S" "SIP+D2U" "" _sip._udp.netlab.test.' }],
    ],
  ])('%s %s', async (name, type, number, records) => {
    const a = await api();
    const res = await resolve(a, `name=${name}&type=${type}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.json).toEqual({
      Status: 0,
      Question: [{ name, type: number }],
      Answer: records.map((r) => ({ name, type: number, ...r })),
      upstream: fixture().server,
      cached: false,
      age: 0,
    });
    // Cache-Control says what the shortest record says.
    const shortest = Math.min(...records.map((r) => r.TTL));
    expect(res.headers['cache-control']).toBe(`max-age=${shortest}`);
  });

  it('ANY: every record of the name, each with its own type', async () => {
    const a = await api();
    const res = await resolve(a, 'name=example.netlab.test&type=ANY');
    expect(res.status).toBe(200);
    expect(res.json.Question).toEqual([{ name: 'example.netlab.test', type: 255 }]);
    expect(
      res.json.Answer.map((r: { type: number }) => r.type).sort((x: number, y: number) => x - y),
    ).toEqual([1, 1, 15, 16, 16, 28, 257]);
    expect(res.json.Answer.find((r: { type: number }) => r.type === 257).data).toBe(
      '0 issue "letsencrypt.org"',
    );
  });

  it('takes the type as a number or in any case, A by default', async () => {
    const a = await api();
    for (const query of [
      'name=example.netlab.test&type=28',
      'name=example.netlab.test&type=aaaa',
    ]) {
      expect((await resolve(a, query)).json.Question[0].type).toBe(28);
    }
    expect((await resolve(a, 'name=example.netlab.test')).json.Question[0].type).toBe(1);
  });

  it('through a CNAME: the chain (type 5 under the alias), then the target records under their own name', async () => {
    const a = await api();
    const res = await resolve(a, 'name=www.netlab.test&type=A');
    expect(res.json.Answer).toEqual([
      { name: 'www.netlab.test', type: 5, TTL: 300, data: 'example.netlab.test.' },
      { name: 'example.netlab.test', type: 1, TTL: 300, data: '192.0.2.10' },
      { name: 'example.netlab.test', type: 1, TTL: 120, data: '192.0.2.11' },
    ]);
    expect(res.headers['cache-control']).toBe('max-age=120');
  });

  it('the root: `. NS` is a question like any other', async () => {
    const a = await api();
    const res = await resolve(a, 'name=.&type=NS');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ Status: 3, Question: [{ name: '.', type: 2 }] });
    expect(fixture().count('NS', '.')).toBe(1);
  });

  it('converts an internationalised name to punycode before asking', async () => {
    const a = await api();
    const res = await resolve(a, `name=${encodeURIComponent('BÜCHER.netlab.test.')}`);
    expect(res.status).toBe(200);
    expect(res.json.Question).toEqual([{ name: 'xn--bcher-kva.netlab.test', type: 1 }]);
    expect(res.json.Answer[0].data).toBe('192.0.2.20');
    expect(fixture().count('A', 'xn--bcher-kva.netlab.test')).toBeGreaterThanOrEqual(1);
  });
});

describe('DNS outcomes map to the documented statuses', () => {
  it('NXDOMAIN is an answer: 200 with Status 3 and no Answer', async () => {
    const a = await api();
    const res = await resolve(a, 'name=nxdomain.netlab.test');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      Status: 3,
      Question: [{ name: 'nxdomain.netlab.test', type: 1 }],
    });
    expect(res.json).not.toHaveProperty('Answer');
  });

  it('NODATA is an answer: 200 with Status 0 and no Answer', async () => {
    const a = await api();
    const res = await resolve(a, 'name=nodata.netlab.test&type=MX');
    expect(res.status).toBe(200);
    expect(res.json.Status).toBe(0);
    expect(res.json).not.toHaveProperty('Answer');
  });

  it.each([
    ['servfail.netlab.test', 2, 'NETLAB_ERR_DNS_SERVFAIL'],
    ['refused.netlab.test', 5, 'NETLAB_ERR_DNS_REFUSED'],
  ])('%s: 502 with the RCODE and the code', async (name, rcode, code) => {
    const a = await api({ DNS_TRIES: '1' });
    const res = await resolve(a, `name=${name}`);
    expect(res.status).toBe(502);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json).toMatchObject({
      Status: rcode,
      code,
      status: 502,
      upstream: fixture().server,
    });
  });

  it('a server that never answers: 504 after DNS_TIMEOUT_MS x DNS_TRIES', async () => {
    const silent = await startSilentDns();
    try {
      const a = await api({
        DNS_SERVERS: silent.server,
        DNS_TIMEOUT_MS: '250',
        DNS_TRIES: '2',
      });
      const started = performance.now();
      const res = await resolve(a, 'name=example.netlab.test');
      const elapsed = performance.now() - started;
      // 2 x 250 ms: never less; more only by what a loaded machine adds,
      // far from the 4 s the default timeout would take.
      expect(elapsed).toBeGreaterThanOrEqual(495);
      expect(elapsed).toBeLessThan(1_500);
      expect(res.status).toBe(504);
      expect(res.json).toMatchObject({ code: 'NETLAB_ERR_DNS_TIMEOUT', status: 504 });
      expect(res.json).not.toHaveProperty('Status');
      expect(silent.received()).toBe(2);
    } finally {
      await silent.close();
    }
  });

  it('asks the next of DNS_SERVERS when the first does not answer, and names the one that answered', async () => {
    const silent = await startSilentDns();
    try {
      const servers = `${silent.server},${fixture().server}`;
      const a = await api({ DNS_SERVERS: servers, DNS_TIMEOUT_MS: '100', DNS_TRIES: '1' });
      const res = await resolve(a, 'name=example.netlab.test&type=NS');
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ Status: 0, upstream: fixture().server });
      expect(silent.received()).toBe(1);
    } finally {
      await silent.close();
    }
  });

  it('asks a server on IPv6 loopback given as [::1]:port', async () => {
    const v6 = await startFixtureDns('::1');
    try {
      const a = await api({ DNS_SERVERS: v6.server });
      const res = await resolve(a, 'name=example.netlab.test&type=AAAA');
      expect(res.json).toMatchObject({
        Status: 0,
        upstream: v6.server,
        Answer: [{ data: '2001:db8::10' }],
      });
      expect(v6.count('AAAA', 'example.netlab.test')).toBe(1);
    } finally {
      await v6.close();
    }
  });

  it('a failure (no answer) is cached for CACHE_FAILURE_TTL_S, then asked again (RFC 9520)', async () => {
    let now = 5_000_000;
    const a = await api(
      { DNS_TIMEOUT_MS: '100', DNS_TRIES: '1', CACHE_FAILURE_TTL_S: '3' },
      { now: () => now },
    );
    const name = 'silent.netlab.test';
    const before = fixture().count('A', name);
    expect((await resolve(a, `name=${name}`)).json).toMatchObject({
      code: 'NETLAB_ERR_DNS_TIMEOUT',
    });
    now += 2_999;
    const again = await resolve(a, `name=${name}`);
    expect(again.status).toBe(504);
    expect(again.json).toMatchObject({ code: 'NETLAB_ERR_DNS_TIMEOUT', cached: true });
    expect(again.headers['cache-control']).toBe('no-store');
    expect(fixture().count('A', name) - before).toBe(1);
    now += 1;
    expect((await resolve(a, `name=${name}`)).json).not.toHaveProperty('cached');
    expect(fixture().count('A', name) - before).toBe(2);
  });

  it('SERVFAIL is cached for CACHE_FAILURE_TTL_S too; 0 turns that off', async () => {
    const name = 'servfail.netlab.test';
    const cached = await api({ DNS_TRIES: '1' });
    const before = fixture().count('A', name);
    for (let i = 0; i < 3; i++) expect((await resolve(cached, `name=${name}`)).status).toBe(502);
    expect(fixture().count('A', name) - before).toBe(1);
    const uncached = await api({ DNS_TRIES: '1', CACHE_FAILURE_TTL_S: '0' });
    for (let i = 0; i < 3; i++) expect((await resolve(uncached, `name=${name}`)).status).toBe(502);
    expect(fixture().count('A', name) - before).toBe(4);
  });

  it('no server listening at all (ICMP port unreachable): 502', async () => {
    const silent = await startSilentDns();
    const closedPort = silent.server;
    await silent.close();
    const a = await api({ DNS_SERVERS: closedPort, DNS_TIMEOUT_MS: '200', DNS_TRIES: '1' });
    const res = await resolve(a, 'name=example.netlab.test');
    expect(res.status).toBe(502);
    expect(res.json).toMatchObject({ code: 'NETLAB_ERR_DNS_FAILURE' });
    expect(res.json.detail).toBe(`could not reach ECONNREFUSED from ${closedPort}`);
  });
});

describe('validation: 400 before any query is sent', () => {
  const long = (n: number) =>
    Array.from({ length: Math.ceil(n / 10) }, () => 'aaaaaaaaa')
      .join('.')
      .slice(0, n);
  it.each([
    ['name=', 'NETLAB_ERR_BAD_NAME'],
    ['type=A', 'NETLAB_ERR_BAD_NAME'],
    ['name=example..com', 'NETLAB_ERR_BAD_NAME'],
    ['name=.example.com', 'NETLAB_ERR_BAD_NAME'],
    [`name=${'a'.repeat(64)}.com`, 'NETLAB_ERR_BAD_NAME'],
    [`name=${long(254)}`, 'NETLAB_ERR_BAD_NAME'],
    ['name=exa%20mple.com', 'NETLAB_ERR_BAD_NAME'],
    ['name=example.com&type=XYZ', 'NETLAB_ERR_BAD_TYPE'],
    ['name=example.com&type=99', 'NETLAB_ERR_BAD_TYPE'],
  ])('%s → %s', async (query, code) => {
    const a = await api();
    const before = fixture().queries.length;
    const res = await resolve(a, query);
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ code, status: 400 });
    expect(typeof res.json.detail).toBe('string');
    expect(fixture().queries.length).toBe(before);
  });

  it('names the bad type the way Cloudflare does', async () => {
    const a = await api();
    const res = await resolve(a, 'name=example.com&type=XYZ');
    expect(res.json.detail).toMatch(/^Invalid type `XYZ`/);
  });
});

describe('the cache', () => {
  it('serves the second query from the cache, with its age, counted-down TTLs and max-age', async () => {
    let now = 1_000_000;
    const a = await api({}, { now: () => now });
    const name = 'example.netlab.test';
    const before = fixture().count('AAAA', name);
    const first = await resolve(a, `name=${name}&type=AAAA`);
    expect(first.json).toMatchObject({ cached: false, age: 0 });
    expect(first.headers['cache-control']).toBe('max-age=300');
    now += 7_500;
    const second = await resolve(a, `name=${name}&type=AAAA`);
    // 7.5 s in: the age rounds up, so TTL and max-age never outlive the record.
    expect(second.json).toMatchObject({ cached: true, age: 8 });
    expect(second.json.Answer[0].TTL).toBe(292);
    expect(second.headers['cache-control']).toBe('max-age=292');
    expect(fixture().count('AAAA', name) - before).toBe(1);
    expect(await metricValue(a.registry, 'netlab_dns_cache_hits_total')).toBe(1);
  });

  it('keeps an answer for its smallest TTL, then asks again', async () => {
    let now = 2_000_000;
    const a = await api({}, { now: () => now });
    const before = fixture().count('A', 'example.netlab.test');
    await resolve(a, 'name=example.netlab.test');
    now += 119_999;
    expect((await resolve(a, 'name=example.netlab.test')).json.cached).toBe(true);
    now += 1;
    expect((await resolve(a, 'name=example.netlab.test')).json.cached).toBe(false);
    expect(fixture().count('A', 'example.netlab.test') - before).toBe(2);
  });

  it('caps the lifetime at CACHE_MAX_TTL_S; a shorter TTL is kept', async () => {
    const a = await api({ CACHE_MAX_TTL_S: '200' });
    expect((await resolve(a, 'name=netlab.test&type=NS')).headers['cache-control']).toBe(
      'max-age=200',
    );
    expect((await resolve(a, 'name=example.netlab.test')).headers['cache-control']).toBe(
      'max-age=120',
    );
  });

  it('tells a fresh answer as of its arrival: max-age is its whole lifetime, age 0', async () => {
    // A clock that moves on every reading, as a busy server's does between
    // storing an answer and writing the response.
    let now = 4_000_000;
    const a = await api({}, { now: () => (now += 7) });
    const res = await resolve(a, 'name=example.netlab.test&type=AAAA');
    expect(res.headers['cache-control']).toBe('max-age=300');
    expect(res.json).toMatchObject({ cached: false, age: 0, Answer: [{ TTL: 300 }] });
  });

  it('caches NXDOMAIN for CACHE_NEGATIVE_TTL_S', async () => {
    let now = 3_000_000;
    const a = await api({ CACHE_NEGATIVE_TTL_S: '10' }, { now: () => now });
    const name = 'negative-cache.netlab.test';
    const first = await resolve(a, `name=${name}`);
    expect(first.headers['cache-control']).toBe('max-age=10');
    now += 9_000;
    expect((await resolve(a, `name=${name}`)).json).toMatchObject({
      Status: 3,
      cached: true,
      age: 9,
    });
    expect(fixture().count('A', name)).toBe(1);
    now += 1_000;
    expect((await resolve(a, `name=${name}`)).json.cached).toBe(false);
    expect(fixture().count('A', name)).toBe(2);
  });

  it('keys by type and name, whatever the case or trailing dot of the question', async () => {
    const a = await api();
    await resolve(a, 'name=Example.NetLab.Test.&type=txt');
    expect((await resolve(a, 'name=example.netlab.test&type=16')).json.cached).toBe(true);
  });

  it('the type is part of the key: A then TXT for one name are two answers', async () => {
    const a = await api();
    const name = 'example.netlab.test';
    const before = fixture().count('TXT', name);
    const first = await resolve(a, `name=${name}&type=A`);
    const second = await resolve(a, `name=${name}&type=TXT`);
    expect(first.json.Answer[0]).toMatchObject({ type: 1, data: '192.0.2.10' });
    expect(second.json).toMatchObject({ cached: false, Answer: [{ type: 16 }, { type: 16 }] });
    expect(fixture().count('TXT', name) - before).toBe(1);
  });

  it('holds at most CACHE_MAX_ENTRIES answers', async () => {
    const a = await api({ CACHE_MAX_ENTRIES: '2' });
    for (const type of ['A', 'AAAA', 'MX', 'TXT'])
      await resolve(a, `name=example.netlab.test&type=${type}`);
    expect(await metricValue(a.registry, 'netlab_dns_cache_entries')).toBe(2);
    expect(await metricValue(a.registry, 'netlab_dns_cache_evictions_total')).toBe(2);
    // The oldest went first: A is asked again, TXT is still cached.
    expect((await resolve(a, 'name=example.netlab.test&type=TXT')).json.cached).toBe(true);
    expect((await resolve(a, 'name=example.netlab.test&type=A')).json.cached).toBe(false);
  });

  it('CACHE_MAX_ENTRIES=0 turns it off', async () => {
    const a = await api({ CACHE_MAX_ENTRIES: '0' });
    const before = fixture().count('NS', 'netlab.test');
    await resolve(a, 'name=netlab.test&type=NS');
    expect((await resolve(a, 'name=netlab.test&type=NS')).json.cached).toBe(false);
    expect(fixture().count('NS', 'netlab.test') - before).toBe(2);
  });

  it('coalesces 1,000 concurrent identical questions into one query at the server', async () => {
    // A long DNS timeout: a retry while the fixture holds its answer would be a second query.
    const a = await api({ CACHE_MAX_ENTRIES: '0', DNS_TIMEOUT_MS: '30000' });
    const name = 'example.netlab.test';
    const before = fixture().count('CAA', name);
    fixture().hold();
    // One connection per request, so all 1,000 are in the server at once.
    const agent = new (await import('node:http')).Agent({ keepAlive: true, maxSockets: 1000 });
    let results: Array<{ status: number; json: { Answer: Array<{ type: number }> } }>;
    try {
      const pending = Array.from({ length: 1000 }, () =>
        fetchVia(agent, `${a.url}/resolve?name=${name}&type=CAA`),
      );
      // Every request has reached the server and joined the one query in flight.
      await waitFor(
        async () => (await metricValue(a.registry, 'netlab_dns_coalesced_total')) === 999,
      );
      fixture().release();
      results = await Promise.all(pending);
    } finally {
      fixture().release();
      agent.destroy();
    }
    expect(results.every((r) => r.status === 200 && r.json.Answer[0]?.type === 257)).toBe(true);
    expect(fixture().count('CAA', name) - before).toBe(1);
  });
});

describe('GET /reverse', () => {
  it.each([
    ['192.0.2.10', '10.2.0.192.in-addr.arpa'],
    ['2001:db8::10', `${[...'20010db8000000000000000000000010'].reverse().join('.')}.ip6.arpa`],
  ])('%s: the PTR answer for %s', async (ip, arpa) => {
    const a = await api();
    const res = await request(`${a.url}/reverse?ip=${ip}`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      Status: 0,
      Question: [{ name: arpa, type: 12 }],
      Answer: [{ name: arpa, type: 12, data: 'example.netlab.test.' }],
    });
  });

  it('an address without a PTR record: Status 3', async () => {
    const a = await api();
    expect((await request(`${a.url}/reverse?ip=192.0.2.99`)).json.Status).toBe(3);
  });

  it.each(['', 'example.com', '1.2.3.256', 'fe80::1%25eth0'])(
    'refuses ip=%j with 400',
    async (ip) => {
      const a = await api();
      const res = await request(`${a.url}/reverse?ip=${ip}`);
      expect(res.status).toBe(400);
      expect(res.json.code).toBe('NETLAB_ERR_BAD_IP');
    },
  );
});

describe('POST /resolve (a batch)', () => {
  const post = (a: Started, body: string, headers: Record<string, string> = {}) =>
    request(`${a.url}/resolve`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...headers },
    });

  it('resolves every query and answers in order, a bad one with its own error', async () => {
    const a = await api();
    const res = await post(
      a,
      JSON.stringify([
        { name: 'example.netlab.test', type: 'AAAA' },
        { name: 'example..com' },
        { name: 'nxdomain.netlab.test', type: 15 },
        { name: 'example.netlab.test', type: 'BOGUS' },
        { name: 'servfail.netlab.test' },
        { name: 'example.netlab.test' },
      ]),
    );
    expect(res.status).toBe(200);
    expect(res.json).toHaveLength(6);
    expect(res.json[0]).toMatchObject({ Status: 0, Answer: [{ data: '2001:db8::10' }] });
    expect(res.json[1]).toMatchObject({ code: 'NETLAB_ERR_BAD_NAME', status: 400 });
    expect(res.json[2]).toMatchObject({
      Status: 3,
      Question: [{ name: 'nxdomain.netlab.test', type: 15 }],
    });
    expect(res.json[3]).toMatchObject({ code: 'NETLAB_ERR_BAD_TYPE', status: 400 });
    expect(res.json[4]).toMatchObject({ Status: 2, code: 'NETLAB_ERR_DNS_SERVFAIL', status: 502 });
    expect(res.json[5].Answer).toHaveLength(2);
  });

  it('answers exactly BATCH_MAX_QUERIES queries; one more is refused with 413 and none is sent', async () => {
    const a = await api({ BATCH_MAX_QUERIES: '3' });
    const batchOf = (n: number) =>
      JSON.stringify(
        ['a', 'b', 'c', 'd'].slice(0, n).map((name) => ({ name: `${name}.batch.netlab.test` })),
      );
    const before = fixture().queries.length;
    const four = await post(a, batchOf(4));
    expect(four.status).toBe(413);
    expect(four.json.code).toBe('NETLAB_ERR_BATCH_TOO_LARGE');
    expect(fixture().queries.length).toBe(before);
    const three = await post(a, batchOf(3));
    expect(three.status).toBe(200);
    expect(three.json.map((r: { Status: number }) => r.Status)).toEqual([3, 3, 3]);
    expect(fixture().queries.length - before).toBe(3);
  });

  it('refuses a body over MAX_BODY_BYTES with 413 and closes the connection', async () => {
    const a = await api({ MAX_BODY_BYTES: '100' });
    const res = await post(a, JSON.stringify([{ name: 'x'.repeat(200) }]));
    expect(res.status).toBe(413);
    expect(res.json.code).toBe('NETLAB_ERR_BODY_TOO_LARGE');
    expect(res.headers.connection).toBe('close');
  });

  it('a chunked body (no Content-Length) of exactly MAX_BODY_BYTES is read; one byte more gets 413', async () => {
    const a = await api({ MAX_BODY_BYTES: '100' });
    const query = '[{"name":"example.netlab.test"}]';
    // JSON allows the padding: the body is exactly the size asked.
    const body = (size: number) => Buffer.from(query.padEnd(size, ' '));
    const exact = await postChunked(a.url, body(100));
    expect(exact.status).toBe(200);
    expect(exact.json[0].Answer[0].data).toBe('192.0.2.10');
    const over = await postChunked(a.url, body(101));
    expect(over.status).toBe(413);
    expect(over.json.code).toBe('NETLAB_ERR_BODY_TOO_LARGE');
  });

  it.each(['not json', '{"name":"example.com"}', ''])('refuses body %j with 400', async (body) => {
    const a = await api();
    const res = await post(a, body);
    expect(res.status).toBe(400);
    expect(res.json.code).toBe('NETLAB_ERR_BAD_BODY');
  });
});

describe('HTTP', () => {
  it('unknown paths get 404, wrong methods 405 with Allow', async () => {
    const a = await api();
    expect((await request(`${a.url}/nope`)).json.code).toBe('NETLAB_ERR_NOT_FOUND');
    const put = await request(`${a.url}/resolve`, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.allow).toBe('GET, HEAD, POST');
    const post = await request(`${a.url}/lookup?name=localhost`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('keeps a sane X-Request-Id of the client, and makes one otherwise', async () => {
    const a = await api();
    const url = `${a.url}/resolve?name=example.netlab.test`;
    const kept = await request(url, { headers: { 'X-Request-Id': 'trace-42' } });
    expect(kept.headers['x-request-id']).toBe('trace-42');
    const made = await request(url, { headers: { 'X-Request-Id': 'bad id\twith tab' } });
    expect(made.headers['x-request-id']).toMatch(/^[A-Za-z0-9_-]+-[0-9a-z]+$/);
    await a.logs.waitFor((l) => l.msg === 'request' && l.requestId === 'trace-42');
  });

  it('a request cut while its query is out is logged when the connection closes, not when an answer comes', async () => {
    // In-process, the shutdown deadline with a query held at the fixture:
    // the 503 line must be written before close() returns (the process
    // exits right after), whenever the cancelled query settles.
    const a = await startApi({ DNS_SERVERS: fixture().server, DNS_TIMEOUT_MS: '20000' });
    fixture().hold();
    try {
      const before = fixture().queries.length;
      const waiting = request(`${a.url}/resolve?name=example.netlab.test&type=SRV`).catch(
        (err: Error) => err,
      );
      await waitFor(async () => fixture().queries.length > before);
      await a.server.close({ timeoutMs: 100 });
      expect(a.logs.find((l) => l.msg === 'request')).toMatchObject([
        { status: 503, code: 'NETLAB_ERR_SHUTTING_DOWN', reason: 'shutdown' },
      ]);
      expect(await waiting).toBeInstanceOf(Error);
    } finally {
      fixture().release();
    }
  });

  it('a client that leaves while its query is out is logged 499 at once', async () => {
    const a = await api({ DNS_TIMEOUT_MS: '20000' });
    fixture().hold();
    try {
      const before = fixture().queries.length;
      const req = httpRequest(`${a.url}/resolve?name=example.netlab.test&type=NAPTR`, {
        agent: false,
      });
      req.on('error', () => {});
      req.end();
      await waitFor(async () => fixture().queries.length > before);
      req.destroy();
      // The answer is still held: only the connection's close can write this line.
      const line = await a.logs.waitFor((l) => l.msg === 'request', 5_000);
      expect(line).toMatchObject({ status: 499 });
    } finally {
      fixture().release();
    }
  });

  it('HEAD gets the headers of GET and no body', async () => {
    const a = await api();
    const res = await request(`${a.url}/resolve?name=example.netlab.test`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(Number(res.headers['content-length'])).toBeGreaterThan(0);
    expect(res.body).toBe('');
  });

  it('counts queries by type and outcome, and upstream latency', async () => {
    const a = await api({ DNS_TRIES: '1' });
    await resolve(a, 'name=example.netlab.test&type=MX');
    await resolve(a, 'name=example.netlab.test&type=MX');
    await resolve(a, 'name=nxdomain.netlab.test');
    await resolve(a, 'name=servfail.netlab.test');
    const q = (labels: string) => metricValue(a.registry, 'netlab_dns_queries_total', labels);
    expect(await q('type="MX",outcome="noerror"')).toBe(2);
    expect(await q('type="A",outcome="nxdomain"')).toBe(1);
    expect(await q('type="A",outcome="servfail"')).toBe(1);
    expect(await metricValue(a.registry, 'netlab_dns_cache_misses_total')).toBe(3);
    expect(
      await metricValue(a.registry, 'netlab_dns_upstream_duration_seconds_count', 'type="MX"'),
    ).toBe(1);
  });
});

/** POST in several chunks with Transfer-Encoding: chunked: the server learns the size only as it reads. */
function postChunked(url: string, body: Buffer): Promise<Pick<Reply, 'status' | 'json'>> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/resolve`, { method: 'POST', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () =>
        resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString()) }),
      );
    });
    req.on('error', reject);
    for (let i = 0; i < body.length; i += 30) req.write(body.subarray(i, i + 30));
    req.end();
  });
}

async function fetchVia(agent: import('node:http').Agent, url: string) {
  const http = await import('node:http');
  return new Promise<{ status: number; json: { Answer: Array<{ type: number }> } }>(
    (resolve, reject) => {
      http
        .get(url, { agent }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => {
            body += d;
          });
          res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(body) }));
        })
        .on('error', reject);
    },
  );
}

async function waitFor(check: () => Promise<boolean>) {
  const { waitUntil } = await import('@netlab/testkit');
  await waitUntil(check, { timeoutMs: 15_000, what: 'every request to join the query in flight' });
}
