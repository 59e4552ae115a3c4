import { describe, expect, it } from 'vitest';
import { unmapIPv4 } from '../src/index.js';

describe('unmapIPv4', () => {
  it.each([
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['::ffff:203.0.113.255', '203.0.113.255'],
    ['127.0.0.1', '127.0.0.1'],
    ['::1', '::1'],
    ['::ffff:7f00:1', '::ffff:7f00:1'], // hex form: not how Node prints a mapped peer
    ['fe80::ffff:1.2.3.4', 'fe80::ffff:1.2.3.4'],
    ['2001:db8::ffff:1', '2001:db8::ffff:1'],
  ])('%s is reported as %s', (address, expected) => {
    expect(unmapIPv4(address)).toBe(expected);
  });
});
