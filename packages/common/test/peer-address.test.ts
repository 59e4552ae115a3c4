import { describe, expect, it } from 'vitest';
import { peerAddress } from '../src/index.js';

describe('peerAddress', () => {
  it.each([
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['::ffff:203.0.113.255', '203.0.113.255'],
    ['::FFFF:10.1.2.3', '10.1.2.3'],
    ['127.0.0.1', '127.0.0.1'],
    ['::1', '::1'],
    ['fe80::1', 'fe80::1'],
    // Not IPv4-mapped addresses as Node prints them, only look-alikes: left alone.
    ['::ffff:1.2.3', '::ffff:1.2.3'],
    ['::ffff:abcd:1', '::ffff:abcd:1'],
    ['::ffff:7f00:1', '::ffff:7f00:1'],
    ['fe80::ffff:1.2.3.4', 'fe80::ffff:1.2.3.4'],
    ['2001:db8::ffff:1', '2001:db8::ffff:1'],
    [undefined, undefined],
  ])('%s → %s', (input, expected) => {
    expect(peerAddress(input)).toBe(expected);
  });
});
