import { parseConfig } from '@netlab/common';
import { describe, expect, it } from 'vitest';
import { isAnswerable, isMulticast } from '../src/addresses.js';
import { schema } from '../src/config.js';
import { DEFAULT_DENIED_SOURCE_PORTS } from '../src/loop-guard.js';

describe('config', () => {
  it('defaults to echo on 41234 with a bounded history and sender table', () => {
    const result = parseConfig(schema, {});
    expect(result).toMatchObject({
      ok: true,
      config: {
        PORT: 41234,
        ADMIN_PORT: 9003,
        UDP_REPLY: 'echo',
        UDP_HISTORY_SIZE: 100,
        UDP_MAX_SENDERS: 1000,
        UDP_MULTICAST_GROUPS: [],
      },
    });
  });

  it.each([
    ['239.1.2.3', ['239.1.2.3']],
    [' 224.0.0.251 , ff15::1234,239.1.2.3,239.1.2.3', ['224.0.0.251', 'ff15::1234', '239.1.2.3']],
    [',', []],
    // At the limit: 20 groups are accepted (21 are refused below).
    [
      Array.from({ length: 20 }, (_, i) => `239.0.0.${i}`).join(','),
      Array.from({ length: 20 }, (_, i) => `239.0.0.${i}`),
    ],
  ])('UDP_MULTICAST_GROUPS=%j is %j', (raw, groups) => {
    const result = parseConfig(schema, { UDP_MULTICAST_GROUPS: raw });
    expect(result).toMatchObject({ ok: true, config: { UDP_MULTICAST_GROUPS: groups } });
  });

  it.each([
    ['10.0.0.1', '"10.0.0.1"'],
    ['239.1.2.3,2001:db8::1,nope', '"2001:db8::1,nope"'],
    ['240.0.0.1', '"240.0.0.1"'],
    // ff00::/8 is the first byte, not ff anywhere in the address.
    ['2001:db8::ff', '"2001:db8::ff"'],
    [Array.from({ length: 21 }, (_, i) => `239.0.0.${i}`).join(','), 'at most 20 groups'],
  ])('refuses UDP_MULTICAST_GROUPS=%j', (raw, said) => {
    const result = parseConfig(schema, { UDP_MULTICAST_GROUPS: raw });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.issues).toHaveLength(1);
      expect(result.issues[0]!.variable).toBe('UDP_MULTICAST_GROUPS');
      expect(result.issues[0]!.message).toContain(said);
    }
  });

  it.each([
    ['224.0.0.0', true],
    ['239.255.255.255', true],
    ['223.255.255.255', false],
    ['ff02::1', true],
    ['FF05::2', true],
    ['fe80::1', false],
    ['not an address', false],
  ])('isMulticast(%s) is %s', (address, expected) => {
    expect(isMulticast(address)).toBe(expected);
  });

  it.each([
    ['127.0.0.1', 5000, true],
    ['203.0.113.7', 1, true],
    ['::1', 5000, true],
    ['2001:db8::1', 5000, true],
    ['2001:db8::ff', 5000, true],
    ['127.0.0.1', 0, false],
    ['0.0.0.0', 5000, false],
    ['224.0.0.1', 5000, false],
    ['239.255.255.250', 5000, false],
    ['255.255.255.255', 5000, false],
    ['::', 5000, false],
    ['ff02::1', 5000, false],
  ])('a datagram from %s port %i is answerable: %s', (address, port, expected) => {
    expect(isAnswerable(address, port)).toBe(expected);
  });

  it.each([
    ['', DEFAULT_DENIED_SOURCE_PORTS],
    [' 7, 53,53 ,65535', [7, 53, 65535]],
    ['none', []],
    ['NONE', []],
    [' None ', []],
    [',80,,', [80]],
    // At the limit: 1000 ports are accepted (1001 are refused below).
    [
      Array.from({ length: 1000 }, (_, i) => i + 1).join(','),
      Array.from({ length: 1000 }, (_, i) => i + 1),
    ],
    ['default,41234,7', [...DEFAULT_DENIED_SOURCE_PORTS, 41234]],
    ['41234, Default', [41234, ...DEFAULT_DENIED_SOURCE_PORTS]],
  ])('UDP_DENIED_SOURCE_PORTS=%j is %j', (raw, ports) => {
    const result = parseConfig(schema, { UDP_DENIED_SOURCE_PORTS: raw });
    expect(result).toMatchObject({ ok: true, config: { UDP_DENIED_SOURCE_PORTS: ports } });
  });

  it.each([
    ['0', '"0"'],
    ['7,65536', '"65536"'],
    ['7,echo', '"echo"'],
    ['-1', '"-1"'],
    ['80a', 'expected ports 1-65535, got "80a"'],
    ['a80', 'expected ports 1-65535, got "a80"'],
    [Array.from({ length: 1001 }, (_, i) => i + 1).join(','), 'at most 1000 ports'],
  ])('refuses UDP_DENIED_SOURCE_PORTS=%j', (raw, said) => {
    const result = parseConfig(schema, { UDP_DENIED_SOURCE_PORTS: raw });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.issues).toHaveLength(1);
      expect(result.issues[0]!.variable).toBe('UDP_DENIED_SOURCE_PORTS');
      expect(result.issues[0]!.message).toContain(said);
    }
  });
});
