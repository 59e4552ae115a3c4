import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AnswerControl,
  type ControlRefusal,
  mayControl,
  readControl,
  seeded,
} from '../src/answer-control.js';

const LIMITS = { maxDelayMs: 2000, maxAnswerBytes: 1000, maxAnswerHeaders: 2 };
const ME = { hostname: 'pod-a', pid: 42 };

function read(query: string, headers: string[] = []) {
  return readControl(query, headers, LIMITS, ME);
}
function control(query: string, headers: string[] = []): AnswerControl {
  const c = read(query, headers);
  if (c === undefined || 'parameter' in c) throw new Error(`not a control: ${JSON.stringify(c)}`);
  return c;
}
function refusal(query: string, headers: string[] = []): ControlRefusal {
  const c = read(query, headers);
  if (c === undefined || !('parameter' in c)) throw new Error(`not refused: ${JSON.stringify(c)}`);
  return c;
}

describe('mayControl (the cheap test a plain GET / pays)', () => {
  it('is false with no query and no X-Netlab- header', () => {
    expect(mayControl('', ['Host', 'a', 'Accept', '*/*', 'X-Request-Id', 'abc'])).toBe(false);
    expect(mayControl('?', ['Host', 'a'])).toBe(false);
  });
  it('is true with a query or an X-Netlab- header in any case', () => {
    expect(mayControl('?status=500', [])).toBe(true);
    expect(mayControl('', ['Host', 'a', 'x-netlab-status', '500'])).toBe(true);
    expect(mayControl('', ['X-NETLAB-Delay', '1s'])).toBe(true);
  });
});

describe('readControl', () => {
  it('reads fixed values', () => {
    const c = control('?status=503&delay=50ms&size=10&close&header=X-A:b&header=X-B:%20c');
    expect(c).toEqual({
      status: 503,
      delayMs: 50,
      size: 10,
      close: true,
      headers: [
        ['x-a', 'b'],
        ['x-b', 'c'],
      ],
      faults: 'status,delay,size,close,header',
    });
  });

  it('reads Go durations and bare milliseconds', () => {
    expect(control('?delay=1.5s').delayMs).toBe(1500);
    expect(control('?delay=250').delayMs).toBe(250);
    expect(control('?delay=2000ms').delayMs).toBe(2000);
    expect(control('?delay=0').faults).toBe('');
  });

  it('is undefined without a control parameter', () => {
    expect(read('?foo=bar')).toBeUndefined();
    expect(read('', ['Host', 'x'])).toBeUndefined();
  });

  it('reads the same controls from X-Netlab- headers; the query wins', () => {
    const c = control('?status=502', [
      'X-Netlab-Status',
      '500',
      'x-netlab-delay',
      '5ms',
      'X-Netlab-Header',
      'X-A: 1',
      'X-Netlab-Header',
      'X-B: 2',
    ]);
    expect(c.status).toBe(502);
    expect(c.delayMs).toBe(5);
    expect(c.headers).toEqual([
      ['x-a', '1'],
      ['x-b', '2'],
    ]);
  });

  it('draws a distribution in proportion to its percents', () => {
    const random = seeded('x');
    const counts = new Map<number | undefined, number>();
    for (let i = 0; i < 20_000; i++) {
      const c = control(`?status=503:10,429:5&seed=${i}-${random()}`);
      counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
    }
    // 10% ± 1, 5% ± 1, the rest the route's own answer.
    expect(Math.abs(counts.get(503)! / 20_000 - 0.1)).toBeLessThan(0.01);
    expect(Math.abs(counts.get(429)! / 20_000 - 0.05)).toBeLessThan(0.01);
    expect(Math.abs(counts.get(undefined)! / 20_000 - 0.85)).toBeLessThan(0.01);
  });

  it('gives the same outcome for the same seed, and both outcomes across seeds', () => {
    const q = '?status=503:50&delay=10ms:50&size=5:50&close=50&seed=';
    for (const seed of ['1', 'abc', 'retry-test']) {
      expect(control(q + seed)).toEqual(control(q + seed));
    }
    const statuses = new Set<number | undefined>();
    for (let i = 0; i < 50; i++) statuses.add(control(`${q}${i}`).status);
    expect(statuses).toEqual(new Set([503, undefined]));
    // Known draws (mulberry32 of FNV-1a): a changed generator or draw order shows here,
    // and a seed printed in a user's test keeps meaning the same outcome.
    const one = seeded('1');
    expect(one()).toBe(0.8317172497045249);
    expect(one()).toBe(0.12300889613106847);
    expect(control(`${q}1`).faults).toBe('delay');
    expect(control('?status=503:50&seed=a').status).toBeUndefined();
    expect(control('?status=503:50&seed=b').status).toBe(503);
  });

  it('applies only in the process `only` names, by hostname or pid', () => {
    expect(control('?status=500&only=pod-a').status).toBe(500);
    expect(control('?status=500&only=42').status).toBe(500);
    expect(read('?status=500&only=pod-b')).toBeUndefined();
    expect(read('?status=500&only=43')).toBeUndefined();
  });

  it.each([
    ['?status=600', 'status', 'NETLAB_ERR_CONTROL_OUT_OF_RANGE'],
    ['?status=199', 'status', 'NETLAB_ERR_CONTROL_OUT_OF_RANGE'],
    ['?status=abc', 'status', 'NETLAB_ERR_BAD_CONTROL'],
    ['?status=503:60,429:41', 'status', 'NETLAB_ERR_CONTROL_OUT_OF_RANGE'],
    ['?status=503:101', 'status', 'NETLAB_ERR_BAD_CONTROL'],
    ['?status=503:-1', 'status', 'NETLAB_ERR_BAD_CONTROL'],
    ['?status=500&status=501', 'status', 'NETLAB_ERR_BAD_CONTROL'],
    ['?delay=2001ms', 'delay', 'NETLAB_ERR_CONTROL_OUT_OF_RANGE'],
    ['?delay=3s', 'delay', 'NETLAB_ERR_CONTROL_OUT_OF_RANGE'],
    ['?delay=1h', 'delay', 'NETLAB_ERR_BAD_CONTROL'],
    ['?size=1001', 'size', 'NETLAB_ERR_CONTROL_OUT_OF_RANGE'],
    ['?size=-1', 'size', 'NETLAB_ERR_BAD_CONTROL'],
    ['?close=maybe', 'close', 'NETLAB_ERR_BAD_CONTROL'],
    ['?header=X-A:1&header=X-B:2&header=X-C:3', 'header', 'NETLAB_ERR_CONTROL_OUT_OF_RANGE'],
    ['?header=Content-Length:5', 'header', 'NETLAB_ERR_BAD_CONTROL'],
    ['?header=transfer-encoding:chunked', 'header', 'NETLAB_ERR_BAD_CONTROL'],
    ['?header=Connection:close', 'header', 'NETLAB_ERR_BAD_CONTROL'],
    ['?header=X-A:a%0d%0aSet-Cookie:x=1', 'header', 'NETLAB_ERR_BAD_CONTROL'],
    ['?header=X-A:a%0ab', 'header', 'NETLAB_ERR_BAD_CONTROL'],
    ['?header=Bad%20Name:1', 'header', 'NETLAB_ERR_BAD_CONTROL'],
    ['?header=novalue', 'header', 'NETLAB_ERR_BAD_CONTROL'],
    ['?only=', 'only', 'NETLAB_ERR_BAD_CONTROL'],
    ['?seed=', 'seed', 'NETLAB_ERR_BAD_CONTROL'],
    [`?status=${'200:1,'.repeat(16)}200:1`, 'status', 'NETLAB_ERR_CONTROL_OUT_OF_RANGE'],
  ])('%s is refused naming %s (%s)', (query, parameter, code) => {
    const r = refusal(query);
    expect(r.parameter).toBe(parameter);
    expect(r.code).toBe(code);
    expect(r.message.startsWith(`${parameter}: `)).toBe(true);
  });

  it('takes the limits exactly', () => {
    expect(control('?delay=2000ms').delayMs).toBe(2000);
    expect(control('?size=1000').size).toBe(1000);
    expect(control('?header=X-A:1&header=X-B:2').headers).toHaveLength(2);
    expect(control('?status=503:60,429:40').faults).toBe('status');
  });

  it('refuses a bad header control given as a request header too', () => {
    expect(refusal('', ['X-Netlab-Header', 'Content-Length: 1']).parameter).toBe('header');
    expect(refusal('', ['X-Netlab-Delay', '1m']).code).toBe('NETLAB_ERR_CONTROL_OUT_OF_RANGE');
  });
});

describe('readControl on any input (property)', () => {
  const junk = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 }));
  // Each control with values near its limits, now and then junk.
  const mostly = <T>(valid: fc.Arbitrary<T>, other: fc.Arbitrary<T>) =>
    fc.oneof({ arbitrary: valid, weight: 12 }, { arbitrary: other, weight: 1 });
  const controls = fc.record(
    {
      status: fc.oneof(
        fc.integer({ min: 100, max: 700 }).map(String),
        fc.constant('503:60,429:40'),
        junk,
      ),
      delay: fc.oneof(
        fc.integer({ min: 0, max: 4000 }).map((n) => `${n}ms`),
        junk,
      ),
      size: mostly(fc.integer({ min: 0, max: 2000 }).map(String), junk),
      close: mostly(fc.constantFrom('', 'true', '50', '101'), junk),
      header: fc.array(
        mostly(
          fc
            .tuple(
              fc.constantFrom('X-A', 'X-B', 'Bad Name', 'te'),
              mostly(fc.string({ maxLength: 8 }), junk),
            )
            .map(([n, v]) => `${n}:${v}`),
          junk,
        ),
        { maxLength: 4 },
      ),
      seed: mostly(fc.constantFrom('1', 'abc'), junk),
    },
    { requiredKeys: [] },
  );

  it('never throws, and what it returns stays within the limits', () => {
    fc.assert(
      fc.property(controls, fc.boolean(), (given, asHeaders) => {
        const pairs = Object.entries(given).flatMap(([k, v]) =>
          Array.isArray(v) ? v.map((one) => [k, one] as const) : [[k, v] as const],
        );
        const q = asHeaders
          ? ''
          : `?${pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`;
        const raw = asHeaders ? pairs.flatMap(([k, v]) => [`X-Netlab-${k}`, v]) : [];
        const c = readControl(q, raw, LIMITS, ME);
        if (c === undefined) return;
        if ('parameter' in c) {
          expect(['NETLAB_ERR_BAD_CONTROL', 'NETLAB_ERR_CONTROL_OUT_OF_RANGE']).toContain(c.code);
          return;
        }
        expect(c.delayMs).toBeLessThanOrEqual(LIMITS.maxDelayMs);
        expect(c.size ?? 0).toBeLessThanOrEqual(LIMITS.maxAnswerBytes);
        expect(c.headers.length).toBeLessThanOrEqual(LIMITS.maxAnswerHeaders);
        if (c.status !== undefined) {
          expect(c.status).toBeGreaterThanOrEqual(200);
          expect(c.status).toBeLessThanOrEqual(599);
        }
        for (const [name, v] of c.headers) {
          expect(name).toMatch(/^[!#$%&'*+.^_`|~0-9a-z-]+$/);
          expect(v).toMatch(/^[\t\x20-\x7e]*$/);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
