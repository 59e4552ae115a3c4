import { describe, expect, it } from 'vitest';
import { peerAddress } from '../src/index.js';

describe('peerAddress', () => {
  it.each([
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['::FFFF:10.1.2.3', '10.1.2.3'],
    ['127.0.0.1', '127.0.0.1'],
    ['::1', '::1'],
    ['fe80::1', 'fe80::1'],
    // Not an IPv4-mapped address, only a look-alike: left alone.
    ['::ffff:1.2.3', '::ffff:1.2.3'],
    ['::ffff:abcd:1', '::ffff:abcd:1'],
    [undefined, undefined],
  ])('%s → %s', (input, expected) => {
    expect(peerAddress(input)).toBe(expected);
  });
});
