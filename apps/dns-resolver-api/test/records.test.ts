import dnsPacket, { type Answer } from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { fromPacket } from '../src/records.js';

/** A response as it comes off the wire: encoded, then decoded by dns-packet. */
function response(answers: Answer[], authorities: Answer[] = []) {
  return dnsPacket.decode(
    dnsPacket.encode({ id: 1, type: 'response', questions: [], answers, authorities }),
  );
}

const SOA = (ttl: number, minimum: number): Answer => ({
  name: 'example.test',
  type: 'SOA',
  ttl,
  data: {
    mname: 'ns.example.test',
    rname: 'host.example.test',
    serial: 1,
    refresh: 2,
    retry: 3,
    expire: 4,
    minimum,
  },
});

describe('fromPacket: the records of an answer, as dig shows them', () => {
  it('a CNAME chain: the aliases in order, then the target records, each under its own name and TTL', () => {
    const r = fromPacket(
      'www.example.test',
      'A',
      response([
        // Out of order, and with a record of another name the server added.
        { name: 'cdn.example.test', type: 'A', ttl: 9, data: '192.0.2.1' },
        { name: 'www.example.test', type: 'CNAME', ttl: 30, data: 'edge.example.test' },
        { name: 'other.example.test', type: 'A', ttl: 1, data: '203.0.113.1' },
        { name: 'edge.example.test', type: 'CNAME', ttl: 20, data: 'cdn.example.test' },
      ]),
    );
    expect(r).toEqual({
      answers: [
        { name: 'www.example.test', type: 5, TTL: 30, data: 'edge.example.test.' },
        { name: 'edge.example.test', type: 5, TTL: 20, data: 'cdn.example.test.' },
        { name: 'cdn.example.test', type: 1, TTL: 9, data: '192.0.2.1' },
      ],
      positive: true,
      minTtl: 9,
      negativeTtl: undefined,
    });
  });

  it('a CNAME loop ends the chain', () => {
    const r = fromPacket(
      'a.example.test',
      'A',
      response([
        { name: 'a.example.test', type: 'CNAME', ttl: 5, data: 'b.example.test' },
        { name: 'b.example.test', type: 'CNAME', ttl: 5, data: 'a.example.test' },
      ]),
    );
    expect(r.answers.map((a) => a.name)).toEqual(['a.example.test', 'b.example.test']);
    expect(r.positive).toBe(false);
  });

  it('NODATA: the negative TTL is min(SOA TTL, MINIMUM) from the authority section', () => {
    expect(fromPacket('x.example.test', 'MX', response([], [SOA(7, 300)])).negativeTtl).toBe(7);
    expect(fromPacket('x.example.test', 'MX', response([], [SOA(300, 4)])).negativeTtl).toBe(4);
    expect(fromPacket('x.example.test', 'MX', response([])).negativeTtl).toBe(undefined);
  });

  it('TXT and CAA data escaped as dig prints them', () => {
    const r = fromPacket(
      'example.test',
      'ANY',
      response([
        { name: 'example.test', type: 'TXT', ttl: 5, data: [Buffer.from('a"b\\c\x01é')] },
        {
          name: 'example.test',
          type: 'CAA',
          ttl: 5,
          data: { flags: 128, tag: 'iodef', value: 'mailto:"x"@example.test' },
        },
      ]),
    );
    expect(r.answers.map((a) => a.data)).toEqual([
      '"a\\"b\\\\c\\001\\195\\169"',
      '128 iodef "mailto:\\"x\\"@example.test"',
    ]);
  });
});
