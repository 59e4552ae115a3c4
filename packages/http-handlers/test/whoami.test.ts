import { describe, expect, it } from 'vitest';
import { unmapped } from '../src/whoami.js';

// A dual-stack listener (HOST unset) sees IPv4 clients as IPv4-mapped IPv6
// addresses. The /whoami test over a real `::` listener skips itself where
// the machine has no IPv6, so the normalising is also tested here, directly.
describe('unmapped (peer addresses as people read them)', () => {
  it.each([
    ['::ffff:127.0.0.1', 'IPv6', { address: '127.0.0.1', family: 'IPv4' }],
    ['::FFFF:192.0.2.33', 'IPv6', { address: '192.0.2.33', family: 'IPv4' }],
    ['::ffff:10.0.0.1', undefined, { address: '10.0.0.1', family: 'IPv4' }],
    ['127.0.0.1', 'IPv4', { address: '127.0.0.1', family: 'IPv4' }],
    ['::1', 'IPv6', { address: '::1', family: 'IPv6' }],
    ['2001:db8::1', 'IPv6', { address: '2001:db8::1', family: 'IPv6' }],
    // Only the exact mapped prefix: these are IPv6 addresses in their own right.
    ['2001:db8::ffff:1.2.3.4', 'IPv6', { address: '2001:db8::ffff:1.2.3.4', family: 'IPv6' }],
    ['::ffff:0:1.2.3.4', 'IPv6', { address: '::ffff:0:1.2.3.4', family: 'IPv6' }],
    ['::ffff:1.2.3', 'IPv6', { address: '::ffff:1.2.3', family: 'IPv6' }],
    ['::ffff:1.2.3.4.5', 'IPv6', { address: '::ffff:1.2.3.4.5', family: 'IPv6' }],
  ])('%s (%s) → %o', (address, family, expected) => {
    expect(unmapped(address, family)).toEqual(expected);
  });

  it('leaves out a family it was not given, and keeps an unknown address unknown', () => {
    expect(unmapped('192.0.2.1')).toStrictEqual({ address: '192.0.2.1' });
    expect(unmapped(undefined, 'IPv4')).toStrictEqual({ address: undefined, family: 'IPv4' });
    expect(unmapped(undefined)).toStrictEqual({ address: undefined });
  });
});
