import { isIPv6 } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Limiter, LimiterFullError } from '../src/limiter.js';
import { reverseName } from '../src/reverse-name.js';
import { parseServer } from '../src/servers.js';

describe('reverseName', () => {
  it.each([
    ['192.0.2.10', '10.2.0.192.in-addr.arpa'],
    ['2001:db8::1', `${[...'20010db8000000000000000000000001'].reverse().join('.')}.ip6.arpa`],
    ['::1', `${[...'1'.padStart(32, '0')].reverse().join('.')}.ip6.arpa`],
    ['::', `${[...'0'.repeat(32)].join('.')}.ip6.arpa`],
    ['::ffff:192.0.2.1', `${[...'00000000000000000000ffffc0000201'].reverse().join('.')}.ip6.arpa`],
  ])('%s → %s', (ip, name) => {
    expect(reverseName(ip)).toBe(name);
  });

  it.each(['', 'example.com', '1.2.3', '256.1.1.1', '1.2.3.4.5', 'fe80::1%eth0', '::g'])(
    'refuses %j',
    (ip) => expect(reverseName(ip)).toBeUndefined(),
  );

  it('maps every IPv6 address to 32 nibbles that spell the same address', () => {
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        const name = reverseName(ip)!;
        const nibbles = name
          .replace(/\.ip6\.arpa$/, '')
          .split('.')
          .reverse();
        expect(nibbles).toHaveLength(32);
        const full = nibbles.join('').match(/.{4}/g)!.join(':');
        expect(isIPv6(full)).toBe(true);
        // Both spellings name one address: the URL parser's canonical form agrees.
        expect(new URL(`http://[${full}]/`).hostname).toBe(new URL(`http://[${ip}]/`).hostname);
      }),
    );
  });
});

describe('parseServer (DNS_SERVERS entries)', () => {
  it.each([
    ['1.1.1.1', '1.1.1.1:53'],
    ['127.0.0.1:5353', '127.0.0.1:5353'],
    [' 127.0.0.1:5353 ', '127.0.0.1:5353'],
    ['::1', '[::1]:53'],
    ['[::1]:53', '[::1]:53'],
    ['[2001:db8::1]:5353', '[2001:db8::1]:5353'],
    ['[::1]', '[::1]:53'],
  ])('%j → %s', (text, value) => expect(parseServer(text)).toEqual({ value }));

  it.each([
    '',
    'dns.google',
    '127.0.0.1:0',
    '127.0.0.1:65536',
    '127.0.0.1:',
    '[::1]:x',
    '1.2.3.4:53:53',
  ])('refuses %j', (text) => expect(parseServer(text)).toHaveProperty('error'));
});

describe('Limiter', () => {
  function gate() {
    let open!: () => void;
    const opened = new Promise<void>((r) => {
      open = r;
    });
    return { open, opened };
  }

  it('runs at most `concurrency` tasks, queues `queueSize` more and refuses the rest', async () => {
    const limiter = new Limiter(2, 1);
    const g = gate();
    let running = 0;
    let peak = 0;
    const task = async () => {
      running++;
      peak = Math.max(peak, running);
      await g.opened;
      running--;
      return 'ok';
    };
    const results = [1, 2, 3, 4, 5].map(() => limiter.run(task).catch((e: Error) => e));
    expect(limiter.active).toBe(2);
    expect(limiter.waiting).toBe(1);
    g.open();
    const settled = await Promise.all(results);
    expect(settled.filter((r) => r === 'ok')).toHaveLength(3);
    expect(settled.filter((r) => r instanceof LimiterFullError)).toHaveLength(2);
    expect(peak).toBe(2);
    expect(limiter.rejected).toBe(2);
    expect(limiter.active + limiter.waiting).toBe(0);
  });

  it('drops a waiter whose caller gave up, so it never runs', async () => {
    const limiter = new Limiter(1, 5);
    const g = gate();
    const first = limiter.run(() => g.opened);
    const abort = new AbortController();
    let ran = false;
    const second = limiter.run(async () => {
      ran = true;
    }, abort.signal);
    abort.abort();
    await expect(second).rejects.toMatchObject({ code: 'ABORT_ERR' });
    expect(limiter.waiting).toBe(0);
    g.open();
    await first;
    expect(ran).toBe(false);
  });

  it('frees the slot of a task that fails', async () => {
    const limiter = new Limiter(1, 0);
    await expect(limiter.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(limiter.run(async () => 'next')).resolves.toBe('next');
  });
});
