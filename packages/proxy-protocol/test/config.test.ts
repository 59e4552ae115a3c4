import { loadConfig } from '@netlab/common';
import { describe, expect, it } from 'vitest';
import { parseTrusted, proxyProtocolVars } from '../src/index.js';

function trusted(raw: string) {
  const r = parseTrusted(raw);
  if ('error' in r) throw new Error(r.error);
  return r.value;
}

describe('PROXY_PROTOCOL_TRUSTED', () => {
  it.each([
    ['10.0.0.0/8', '10.255.1.2', true],
    ['10.0.0.0/8', '11.0.0.1', false],
    ['192.0.2.7', '192.0.2.7', true],
    ['192.0.2.7', '192.0.2.8', false],
    ['fd00::/8', 'fd12::1', true],
    ['fd00::/8', 'fe80::1', false],
    ['::1', '::1', true],
    ['127.0.0.0/8, ::1/128', '127.9.9.9', true],
    ['0.0.0.0/0', '203.0.113.1', true],
    ['0.0.0.0/0', '2001:db8::1', false],
    ['', '127.0.0.1', false],
  ])('%s trusts %s: %s', (list, peer, expected) => {
    expect(trusted(list).has(peer)).toBe(expected);
  });

  it('the default trusts loopback only', () => {
    const config = loadConfig(proxyProtocolVars(), {});
    expect(config.PROXY_PROTOCOL).toBe('off');
    expect(config.PROXY_PROTOCOL_TIMEOUT_MS).toBe(3000);
    expect(config.PROXY_PROTOCOL_TRUSTED.cidrs).toEqual(['127.0.0.0/8', '::1/128']);
    expect(config.PROXY_PROTOCOL_TRUSTED.has('127.0.0.1')).toBe(true);
    expect(config.PROXY_PROTOCOL_TRUSTED.has('::1')).toBe(true);
    expect(config.PROXY_PROTOCOL_TRUSTED.has('10.0.0.1')).toBe(false);
  });

  it.each([
    '10.0.0.0/33',
    'fd00::/129',
    'abc',
    '10.0.0.0/',
    '10.0.0.0/-1',
    '10.0.0.0/8/8',
    '10.0.0/8',
  ])('"%s" is refused with one line', (raw) => {
    expect(parseTrusted(raw)).toEqual({
      error: `expected CIDRs like 10.0.0.0/8 or fd00::/8, got "${raw}"`,
    });
  });

  it('a bad value stops the config with the variable named (exit 78 in an app)', () => {
    expect(() => loadConfig(proxyProtocolVars(), { PROXY_PROTOCOL_TRUSTED: 'everyone' })).toThrow(
      'PROXY_PROTOCOL_TRUSTED: expected CIDRs like 10.0.0.0/8 or fd00::/8, got "everyone"',
    );
    expect(() => loadConfig(proxyProtocolVars(), { PROXY_PROTOCOL: 'yes' })).toThrow(
      /^PROXY_PROTOCOL: /,
    );
  });
});
