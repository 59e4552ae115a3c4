import { once } from 'node:events';
import net from 'node:net';
import { waitUntil } from '@netlab/testkit';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { originsHeld } from '../src/gate.js';
import { inet, tlv, v2 } from './build.js';
import { bytesOf, exchange, type Gated, metricValue, startGated } from './helpers.js';

const V1 = 'PROXY TCP4 203.0.113.7 192.0.2.1 51000 443\r\n';
const V2 = v2(
  0x21,
  0x11,
  inet([198, 51, 100, 9], [192, 0, 2, 1], 40000, 8080),
  tlv(0x02, 'app.example'),
);

let gated: Gated | undefined;
afterEach(async () => {
  await gated?.close();
  gated = undefined;
});

async function refusedWith(reason: string) {
  const line = await gated!.logs.waitFor((l) => l.msg === 'PROXY protocol: connection refused');
  expect(line).toMatchObject({ reason, remoteAddress: '127.0.0.1', level: 'warn' });
  expect(
    await metricValue(gated!.registry, 'netlab_proxy_protocol_refused_total', `reason="${reason}"`),
  ).toBe(1);
}

describe('PROXY_PROTOCOL=optional', () => {
  it("a v1 header one byte at a time, then data: the client is the header's, the data arrives whole", async () => {
    gated = await startGated({ PROXY_PROTOCOL: 'optional' });
    const { origin, text } = await exchange(gated.port, [...bytesOf(V1), 'hello']);
    expect(origin).toMatchObject({
      client: { address: '203.0.113.7', port: 51000 },
      peer: { address: '127.0.0.1' },
      proxy: { version: 1, protocol: 'TCP4', destination: { address: '192.0.2.1', port: 443 } },
    });
    expect(text.endsWith('\nhello')).toBe(true);
    expect(
      await metricValue(gated.registry, 'netlab_proxy_protocol_connections_total', 'version="1"'),
    ).toBe(1);
  });

  it('a v2 header and the data in one segment: nothing after the header is lost', async () => {
    gated = await startGated({ PROXY_PROTOCOL: 'optional' });
    const { origin, text } = await exchange(gated.port, [
      Buffer.concat([V2, Buffer.from('GET / HTTP/1.1\r\n\r\n')]),
    ]);
    expect(origin).toMatchObject({
      client: { address: '198.51.100.9', port: 40000 },
      proxy: { version: 2, tlvs: [{ name: 'AUTHORITY', value: 'app.example' }] },
    });
    expect(text.slice(text.indexOf('\n') + 1)).toBe('GET / HTTP/1.1\r\n\r\n');
  });

  it('a v2 header split at every byte boundary', async () => {
    gated = await startGated({ PROXY_PROTOCOL: 'optional' });
    const { origin, text } = await exchange(gated.port, [...bytesOf(V2), 'x']);
    expect(origin?.client).toEqual({ address: '198.51.100.9', port: 40000 });
    expect(text.endsWith('\nx')).toBe(true);
  });

  it('a plain connection (even one starting with P) is served as itself', async () => {
    gated = await startGated({ PROXY_PROTOCOL: 'optional' });
    const { origin, text } = await exchange(gated.port, ['P', 'OST / HTTP/1.1\r\n']);
    expect(origin).toMatchObject({ proxy: null, client: { address: '127.0.0.1' } });
    expect(origin?.client).toEqual(origin?.peer);
    expect(text.endsWith('\nPOST / HTTP/1.1\r\n')).toBe(true);
    expect(
      await metricValue(
        gated.registry,
        'netlab_proxy_protocol_connections_total',
        'version="none"',
      ),
    ).toBe(1);
  });

  it('a header from a peer outside PROXY_PROTOCOL_TRUSTED is refused; its plain connections still served', async () => {
    gated = await startGated({ PROXY_PROTOCOL: 'optional', PROXY_PROTOCOL_TRUSTED: '10.0.0.0/8' });
    expect((await exchange(gated.port, [V1])).text).toBe('');
    await refusedWith('untrusted');
    expect((await exchange(gated.port, ['hi'])).origin?.proxy).toBe(null);
  });

  it('a malformed header closes the connection with a log line and a count', async () => {
    gated = await startGated({ PROXY_PROTOCOL: 'optional' });
    expect((await exchange(gated.port, ['PROXY TCP4 1.2.3.4 5.6.7.8 99999 1\r\nGET /'])).text).toBe(
      '',
    );
    await refusedWith('malformed');
  });

  it("a header cut by the client's FIN is truncated", async () => {
    gated = await startGated({ PROXY_PROTOCOL: 'optional' });
    expect((await exchange(gated.port, [V2.subarray(0, 20)])).text).toBe('');
    await refusedWith('truncated');
  });

  it('a header that stalls is cut at PROXY_PROTOCOL_TIMEOUT_MS', async () => {
    gated = await startGated({ PROXY_PROTOCOL: 'optional', PROXY_PROTOCOL_TIMEOUT_MS: '200' });
    const started = performance.now();
    expect((await exchange(gated.port, ['PROXY TCP4 1.2.3.4'], { end: false })).text).toBe('');
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    await refusedWith('timeout');
  });

  it('a connection closed before its first byte is not counted as refused', async () => {
    gated = await startGated({ PROXY_PROTOCOL: 'optional' });
    expect((await exchange(gated.port, [])).text).toBe('');
    expect((await exchange(gated.port, ['x'])).origin?.proxy).toBe(null);
    expect(gated.logs.find((l) => l.msg === 'PROXY protocol: connection refused')).toEqual([]);
  });
});

describe('shutdown', () => {
  it('a header completed after the server stopped listening is not served', async () => {
    gated = await startGated({ PROXY_PROTOCOL: 'optional' });
    const g = gated;
    const socket = net.connect({ port: g.port, host: '127.0.0.1' });
    socket.on('error', () => {});
    const closed = once(socket, 'close');
    await once(socket, 'connect');
    socket.write(V1.slice(0, 10));
    await waitUntil(async () => (await g.accepted()) === 1);
    g.stopListening();
    socket.end(`${V1.slice(10)}data`);
    const got: Buffer[] = [];
    socket.on('data', (d: Buffer) => got.push(d));
    await closed;
    expect(Buffer.concat(got).length).toBe(0);
    expect(
      await metricValue(g.registry, 'netlab_proxy_protocol_connections_total', 'version="1"'),
    ).toBe(0);
  });
});

describe('PROXY_PROTOCOL=required', () => {
  it('a plain connection is refused as missing', async () => {
    gated = await startGated({ PROXY_PROTOCOL: 'required' });
    expect((await exchange(gated.port, ['GET / HTTP/1.1\r\n'])).text).toBe('');
    await refusedWith('missing');
  });

  it('any connection from an untrusted peer is refused before it sends a byte', async () => {
    gated = await startGated({ PROXY_PROTOCOL: 'required', PROXY_PROTOCOL_TRUSTED: '::1/128' });
    expect((await exchange(gated.port, [], { end: false })).text).toBe('');
    await refusedWith('untrusted');
  });

  it('a LOCAL header (health check) is served with the TCP peer as the client', async () => {
    gated = await startGated({ PROXY_PROTOCOL: 'required' });
    const { origin } = await exchange(gated.port, [v2(0x20, 0x00, Buffer.alloc(0)), 'ping']);
    expect(origin).toMatchObject({ proxy: { command: 'LOCAL' }, client: { address: '127.0.0.1' } });
    expect(origin?.client).toEqual(origin?.peer);
  });
});

describe('the gate under hostile bytes', () => {
  it('random and mutated headers, in random splits, each end in a pass or a counted refusal; the server keeps serving', async () => {
    gated = await startGated({ PROXY_PROTOCOL: 'optional', PROXY_PROTOCOL_TIMEOUT_MS: '300' });
    const g = gated;
    const headerish = fc.oneof(
      fc.constant(Buffer.from(V1)),
      fc.constant(V2),
      fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.from(a)),
    );
    const mutated = fc
      .tuple(
        headerish,
        fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 3 }),
        fc.nat(),
        fc.boolean(),
      )
      .map(([h, flips, cut]) => {
        const b = Buffer.from(h);
        for (const [at, x] of flips) if (b.length > 0) b[at % b.length] = x;
        return b.subarray(0, b.length === 0 ? 0 : (cut % b.length) + 1);
      });
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        mutated,
        fc.array(fc.nat(), { maxLength: 3 }),
        async (bytes: Buffer, cuts: number[]) => {
          runs++;
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort(
            (a, b) => a - b,
          );
          const parts: Buffer[] = [];
          let from = 0;
          for (const to of [...points, bytes.length]) {
            if (to > from) parts.push(bytes.subarray(from, to));
            from = Math.max(from, to);
          }
          // Then FIN: a header still incomplete is truncated, a plain connection echoed and ended.
          await exchange(g.port, parts);
        },
      ),
      { numRuns: 60 },
    );
    // Every connection is accounted for: passed, refused, or closed before its first byte.
    const passed =
      (await metricValue(g.registry, 'netlab_proxy_protocol_connections_total', 'version="1"')) +
      (await metricValue(g.registry, 'netlab_proxy_protocol_connections_total', 'version="2"')) +
      (await metricValue(g.registry, 'netlab_proxy_protocol_connections_total', 'version="none"'));
    const text = await g.registry.metrics();
    const refused = [
      ...text.matchAll(/^netlab_proxy_protocol_refused_total\{[^}]*\} (\d+)$/gm),
    ].reduce((n, m) => n + Number(m[1]), 0);
    const empty = g.logs.find(
      (l) => l.msg === 'PROXY protocol: closed before its first byte',
    ).length;
    expect(passed + refused + empty).toBe(runs);
    const { origin } = await exchange(g.port, [V1, 'still here']);
    expect(origin?.client).toEqual({ address: '203.0.113.7', port: 51000 });
  });
});

describe('what the gate remembers', () => {
  it('closed connections are forgotten: 1,100 header connections leave fewer than 1,024 entries', async () => {
    gated = await startGated({ PROXY_PROTOCOL: 'required' });
    const port = gated.port;
    for (let batch = 0; batch < 22; batch++) {
      await Promise.all(Array.from({ length: 50 }, () => exchange(port, [V1])));
    }
    expect(
      await metricValue(gated.registry, 'netlab_proxy_protocol_connections_total', 'version="1"'),
    ).toBe(1100);
    expect(originsHeld()).toBeLessThan(1024);
  });
});

describe('PROXY_PROTOCOL=off', () => {
  it('the header is just bytes for the server', async () => {
    gated = await startGated({});
    const { origin, text } = await exchange(gated.port, [V1]);
    expect(origin?.proxy).toBe(null);
    expect(text.endsWith(`\n${V1}`)).toBe(true);
  });
});
