import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { History } from '../src/history.js';
import { Senders } from '../src/senders.js';

describe('the reply token bucket (times given, not measured)', () => {
  it('gives a burst at once, then one reply per 1/rate seconds', () => {
    const senders = new Senders({ max: 10, ratePerSec: 2, burst: 3 });
    const s = senders.see('192.0.2.1', 0);
    const at = (ms: number, n: number) => Array.from({ length: n }, () => senders.takeToken(s, ms));
    expect(at(0, 4)).toEqual([true, true, true, false]);
    expect(at(499, 1)).toEqual([false]);
    expect(at(500, 2)).toEqual([true, false]);
    // Refills up to the burst, never beyond, however long the sender was quiet.
    expect(at(60_000, 4)).toEqual([true, true, true, false]);
  });

  it('never answers more than burst + rate * elapsed, for any arrival times', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 100 }),
        fc.array(fc.integer({ min: 0, max: 2000 }), { maxLength: 300 }),
        (rate, burst, gaps) => {
          const senders = new Senders({ max: 1, ratePerSec: rate, burst });
          let now = 0;
          let answered = 0;
          const s = senders.see('192.0.2.1', now);
          for (const gap of gaps) {
            now += gap;
            if (senders.takeToken(s, now)) answered++;
          }
          expect(answered).toBeLessThanOrEqual(burst + Math.floor((rate * now) / 1000));
        },
      ),
    );
  });

  it('does not drain the bucket when the wall clock steps back', () => {
    const senders = new Senders({ max: 10, ratePerSec: 1, burst: 1 });
    const s = senders.see('192.0.2.1', 10_000);
    expect(senders.takeToken(s, 10_000)).toBe(true);
    expect(senders.takeToken(s, 5_000)).toBe(false);
    expect(senders.takeToken(s, 6_000)).toBe(true);
  });
});

describe('the sender table', () => {
  it('holds at most max addresses, forgetting the least recently seen, whatever arrives', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 200 }),
        (max, arrivals) => {
          const senders = new Senders({ max, ratePerSec: 1, burst: 1 });
          for (const [t, n] of arrivals.entries()) senders.see(`10.0.0.${n}`, t);
          // The model: most recent first, each address once, the first `max`.
          const recent = [...new Set([...arrivals].reverse())].slice(0, max);
          expect(senders.toJSON().map((s) => s.address)).toEqual(recent.map((n) => `10.0.0.${n}`));
          expect(senders.size).toBe(recent.length);
        },
      ),
    );
  });
});

describe('the history ring', () => {
  it("writes a long datagram's preview into its own slot only", () => {
    const history = new History(2, 4);
    history.add(1, '192.0.2.1', 1, Buffer.from('aaaa'));
    history.add(2, '192.0.2.1', 2, Buffer.from('bbbb'));
    history.add(3, '192.0.2.1', 3, Buffer.from('cccccc'));
    expect(history.entries().map((e) => [e.seq, e.preview])).toEqual([
      [2, { text: 'bbbb', truncated: false }],
      [3, { text: 'cccc', truncated: true }],
    ]);
  });

  it('keeps the last `capacity` datagrams in arrival order, numbered from 1', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 40 }), (cap, n) => {
        const history = new History(cap, 8);
        for (let i = 1; i <= n; i++) history.add(i, '192.0.2.1', i, Buffer.from(`#${i}`));
        const kept = Math.min(cap, n);
        expect(history.entries().map((e) => [e.seq, e.preview])).toEqual(
          Array.from({ length: kept }, (_, k) => {
            const i = n - kept + 1 + k;
            return [i, { text: `#${i}`, truncated: false }];
          }),
        );
      }),
    );
  });
});
