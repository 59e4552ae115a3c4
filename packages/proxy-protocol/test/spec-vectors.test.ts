import { describe, expect, it } from 'vitest';
import { crc32c } from '../src/crc32c.js';
import { type ProxyHeader, ProxyHeaderParser, parseProxyHeader } from '../src/index.js';
import { inet, tlv, v2, withCrc } from './build.js';

function done(bytes: Buffer | string): { header: ProxyHeader; rest: Buffer } {
  const step = parseProxyHeader(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  if (step.state !== 'done') throw new Error(`expected a header, got ${step.state}`);
  return step;
}

function code(bytes: Buffer | string): string | undefined {
  try {
    const step = parseProxyHeader(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
    return `state:${step.state}`;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

const FF6 = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';

describe('v1, the examples of proxy-protocol.txt 2.1', () => {
  it('TCP4 worst case: 56 bytes, every field read', () => {
    const line = 'PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n';
    expect(line.length).toBe(56);
    const { header, rest } = done(`${line}GET / HTTP/1.1\r\n`);
    expect(header).toEqual({
      version: 1,
      command: 'PROXY',
      protocol: 'TCP4',
      source: { address: '255.255.255.255', port: 65535 },
      destination: { address: '255.255.255.255', port: 65535 },
      tlvs: [],
      length: 56,
    });
    expect(rest.toString()).toBe('GET / HTTP/1.1\r\n');
  });

  it('TCP6 worst case: 104 bytes', () => {
    const line = `PROXY TCP6 ${FF6} ${FF6} 65535 65535\r\n`;
    expect(line.length).toBe(104);
    const { header } = done(line);
    expect(header.source).toEqual({ address: FF6, port: 65535 });
    expect(header.length).toBe(104);
  });

  it('UNKNOWN: 15 bytes, and the 107-byte worst case is still accepted; the peer is the client', () => {
    expect(done('PROXY UNKNOWN\r\n').header).toMatchObject({
      protocol: 'UNKNOWN',
      source: null,
      length: 15,
    });
    const worst = `PROXY UNKNOWN ${FF6} ${FF6} 65535 65535\r\n`;
    expect(worst.length).toBe(107);
    expect(done(worst).header.length).toBe(107);
  });

  it('a 108-byte line is refused as too long, as is 107 bytes without CRLF', () => {
    expect(code(`PROXY UNKNOWN ${FF6} ${FF6} 65535 655356\r\n`)).toBe('NETLAB_ERR_PROXY_TOO_LONG');
    expect(code(`PROXY UNKNOWN ${'x'.repeat(93)}`)).toBe('NETLAB_ERR_PROXY_TOO_LONG');
    expect(code(`PROXY UNKNOWN ${'x'.repeat(92)}`)).toBe('state:more');
  });

  it.each([
    ['protocol', 'PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n'],
    ['v6 address under TCP4', 'PROXY TCP4 ::1 ::1 1 2\r\n'],
    ['v4 address under TCP6', 'PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n'],
    ['port over 65535', 'PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n'],
    ['leading zero port', 'PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n'],
    ['missing field', 'PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n'],
    ['double space', 'PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n'],
    ['bare LF', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n'],
    ['NUL byte', 'PROXY TCP4 1.2.3.4\u0000'],
    ['zone id', 'PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n'],
    ['lower-case keyword', 'PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n'],
  ])('malformed v1: %s', (_, line) => {
    expect(code(line)).toBe('NETLAB_ERR_PROXY_MALFORMED');
  });
});

describe('v2, byte-exact', () => {
  it('HAProxy send-proxy-v2 as captured on the wire (TCP over IPv4, no TLV), followed by the request', () => {
    const wire = Buffer.from(
      '0d0a0d0a000d0a515549540a2111000cac130001ac130003a6520050474554202f20485454502f312e310d0a',
      'hex',
    );
    const { header, rest } = done(wire);
    expect(header).toEqual({
      version: 2,
      command: 'PROXY',
      protocol: 'TCP4',
      source: { address: '172.19.0.1', port: 42578 },
      destination: { address: '172.19.0.3', port: 80 },
      tlvs: [],
      length: 28,
    });
    expect(rest.toString()).toBe('GET / HTTP/1.1\r\n');
  });

  it('TCP over IPv6, shortest address form', () => {
    const a = Buffer.alloc(36);
    Buffer.from('20010db8000000000000000000000001', 'hex').copy(a, 0);
    a[31] = 1; // ::1
    a.writeUInt16BE(443, 32);
    a.writeUInt16BE(8443, 34);
    const { header } = done(v2(0x21, 0x21, a));
    expect(header).toMatchObject({
      protocol: 'TCP6',
      source: { address: '2001:db8::1', port: 443 },
      destination: { address: '::1', port: 8443 },
      length: 52,
    });
  });

  it('UNIX stream: NUL-padded 108-byte paths, no port', () => {
    const a = Buffer.alloc(216);
    a.write('/run/client.sock', 0, 'latin1');
    a.write('/run/lb.sock', 108, 'latin1');
    expect(done(v2(0x21, 0x31, a)).header).toMatchObject({
      protocol: 'UNIX_STREAM',
      source: { address: '/run/client.sock', port: null },
      destination: { address: '/run/lb.sock', port: null },
    });
  });

  it('LOCAL (a health check): the address block is ignored, the peer is the client', () => {
    const { header } = done(v2(0x20, 0x11, inet([1, 2, 3, 4], [5, 6, 7, 8], 1, 2)));
    expect(header).toMatchObject({
      command: 'LOCAL',
      protocol: 'TCP4',
      source: null,
      destination: null,
    });
    expect(done(v2(0x20, 0x00, Buffer.alloc(0))).header).toMatchObject({
      command: 'LOCAL',
      protocol: 'UNSPEC',
      length: 16,
    });
  });

  it('UNSPEC family with PROXY: no address, TLVs still read', () => {
    const { header } = done(v2(0x21, 0x00, Buffer.alloc(0), tlv(0x02, 'example.com')));
    expect(header).toMatchObject({
      protocol: 'UNSPEC',
      source: null,
      tlvs: [{ name: 'AUTHORITY', value: 'example.com' }],
    });
  });

  it('every registered TLV, decoded and raw', () => {
    const ssl = Buffer.concat([
      Buffer.from([0x07, 0, 0, 0, 0]), // client: SSL | CERT_CONN | CERT_SESS, verify 0
      tlv(0x21, 'TLSv1.3'),
      tlv(0x22, 'client.example'),
      tlv(0x23, 'TLS_AES_256_GCM_SHA384'),
      tlv(0x24, 'ECDSA-SHA256'),
      tlv(0x25, 'EC256'),
      tlv(0x2f, Buffer.from([0xab])),
    ]);
    const { header } = done(
      withCrc(
        0x21,
        0x11,
        inet([192, 0, 2, 1], [198, 51, 100, 2], 50000, 443),
        tlv(0x01, 'h2'),
        tlv(0x02, 'example.com'),
        tlv(0x04, Buffer.from([0, 0, 0])),
        tlv(0x05, 'req-1'),
        tlv(0x20, ssl),
        tlv(0x30, 'blue'),
        tlv(0xea, Buffer.concat([Buffer.from([0x01]), Buffer.from('vpce-08d2bf15fac5001c9')])),
        tlv(0xee, Buffer.from([0x01, 0x78, 0x56, 0x34, 0x12])),
        tlv(0xe0, Buffer.from('0102030405060708', 'hex')),
        tlv(0xc7, Buffer.from([0xde, 0xad])),
      ),
    );
    const byName = Object.fromEntries(header.tlvs.map((t) => [t.name, t]));
    expect(byName.ALPN).toEqual({ type: 1, name: 'ALPN', hex: '6832', value: 'h2' });
    expect(byName.AUTHORITY?.value).toBe('example.com');
    expect(byName.NOOP).toEqual({ type: 4, name: 'NOOP', hex: '000000' });
    expect(byName.UNIQUE_ID?.value).toBe('req-1');
    expect(byName.SSL?.value).toEqual({
      ssl: true,
      certInConnection: true,
      certInSession: true,
      verify: 0,
      certVerified: true,
      version: 'TLSv1.3',
      cn: 'client.example',
      cipher: 'TLS_AES_256_GCM_SHA384',
      sigAlg: 'ECDSA-SHA256',
      keyAlg: 'EC256',
      other: [{ type: 0x2f, hex: 'ab' }],
    });
    expect(byName.NETNS?.value).toBe('blue');
    expect(byName.AWS?.value).toEqual({ vpceId: 'vpce-08d2bf15fac5001c9' });
    expect(byName.AZURE?.value).toEqual({ linkId: 0x12345678 });
    expect(byName.GCP?.value).toEqual({ pscConnectionId: '72623859790382856' });
    expect(byName['0xc7']).toEqual({ type: 0xc7, name: '0xc7', hex: 'dead' });
    expect(byName.CRC32C?.value).toBeTypeOf('number');
  });

  it('an SSL TLV with a failed verification says so', () => {
    const ssl = Buffer.from([0x03, 0, 0, 0, 0x0a]);
    const { header } = done(v2(0x21, 0x11, inet([1, 1, 1, 1], [2, 2, 2, 2], 1, 2), tlv(0x20, ssl)));
    expect(header.tlvs[0]?.value).toMatchObject({
      ssl: true,
      certInConnection: true,
      verify: 10,
      certVerified: false,
    });
  });

  it('CRC32C: the check value of "123456789" is 0xE3069283, and one flipped bit in the header is refused', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    const good = withCrc(
      0x21,
      0x11,
      inet([10, 0, 0, 1], [10, 0, 0, 2], 1234, 80),
      tlv(0x02, 'a.example'),
    );
    expect(done(good).header.source).toEqual({ address: '10.0.0.1', port: 1234 });
    for (const at of [16, 20, 27, 35, good.length - 1]) {
      const bad = Buffer.from(good);
      bad[at] = (bad[at] as number) ^ 0x01;
      expect(code(bad)).toBe('NETLAB_ERR_PROXY_CRC');
    }
  });

  it.each([
    ['version 1 in the binary form', v2(0x11, 0x11, inet([1, 1, 1, 1], [2, 2, 2, 2], 1, 2))],
    ['command 2', v2(0x22, 0x11, inet([1, 1, 1, 1], [2, 2, 2, 2], 1, 2))],
    ['family 4', v2(0x21, 0x41, Buffer.alloc(0))],
    ['transport 3', v2(0x21, 0x13, inet([1, 1, 1, 1], [2, 2, 2, 2], 1, 2))],
    ['length shorter than the IPv4 block', v2(0x21, 0x11, Buffer.alloc(11))],
    ['length shorter than the IPv6 block', v2(0x21, 0x21, Buffer.alloc(35))],
    [
      'TLV running past the end',
      v2(0x21, 0x11, inet([1, 1, 1, 1], [2, 2, 2, 2], 1, 2), Buffer.from([0x02, 0x00, 0x05, 0x61])),
    ],
    [
      'TLV header cut',
      v2(0x21, 0x11, inet([1, 1, 1, 1], [2, 2, 2, 2], 1, 2), Buffer.from([0x02, 0x00])),
    ],
    [
      'CRC32C of 3 bytes',
      v2(0x21, 0x11, inet([1, 1, 1, 1], [2, 2, 2, 2], 1, 2), tlv(0x03, Buffer.alloc(3))),
    ],
    [
      'SSL TLV of 4 bytes',
      v2(0x21, 0x11, inet([1, 1, 1, 1], [2, 2, 2, 2], 1, 2), tlv(0x20, Buffer.alloc(4))),
    ],
    [
      'UNIQUE_ID of 129 bytes',
      v2(0x21, 0x11, inet([1, 1, 1, 1], [2, 2, 2, 2], 1, 2), tlv(0x05, Buffer.alloc(129))),
    ],
  ])('malformed v2: %s', (_, bytes) => {
    expect(code(bytes)).toBe('NETLAB_ERR_PROXY_MALFORMED');
  });

  it('the largest v2 header (length 65535), fed one byte at a time, then the data', () => {
    const address = inet([192, 0, 2, 1], [192, 0, 2, 2], 1, 2);
    const big = v2(0x21, 0x11, address, tlv(0x04, Buffer.alloc(65535 - 12 - 3)));
    expect(big.length).toBe(16 + 65535);
    const parser = new ProxyHeaderParser();
    for (let i = 0; i < big.length - 1; i++) {
      expect(parser.push(big.subarray(i, i + 1)).state).toBe('more');
    }
    const step = parser.push(Buffer.concat([big.subarray(-1), Buffer.from('GET')]));
    expect(step.state).toBe('done');
    if (step.state !== 'done') return;
    expect(step.header.length).toBe(65551);
    expect(step.header.tlvs).toHaveLength(1);
    expect(step.rest.toString()).toBe('GET');
  });

  it('a bad version byte is refused as soon as it arrives, before the length', () => {
    expect(code(Buffer.from('0d0a0d0a000d0a515549540a31', 'hex'))).toBe(
      'NETLAB_ERR_PROXY_MALFORMED',
    );
    expect(code(Buffer.from('0d0a0d0a000d0a515549540a21', 'hex'))).toBe('state:more');
  });

  it('no signature: a plain connection, every byte handed back', () => {
    for (const plain of ['GET / HTTP/1.1\r\n', 'POST /', 'PROXZ', '\u0016\u0003\u0001']) {
      const step = parseProxyHeader(Buffer.from(plain, 'latin1'));
      expect(step).toEqual({ state: 'plain', rest: Buffer.from(plain, 'latin1') });
    }
    expect(parseProxyHeader(Buffer.from('PROX')).state).toBe('more');
    expect(parseProxyHeader(Buffer.from('0d0a0d0a00', 'hex')).state).toBe('more');
  });
});
