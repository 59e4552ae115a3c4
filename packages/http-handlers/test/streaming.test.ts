import { describe, expect, it } from 'vitest';
import { readStreamParams } from '../src/streaming.js';

const LIMITS = { maxStreamMs: 10_000, maxAnswerBytes: 100_000 };

describe('readStreamParams', () => {
  it('has defaults: 10 chunks 100 ms apart (drip), 10 events 1 s apart (sse)', () => {
    expect(readStreamParams('', 'drip', LIMITS)).toEqual({ count: 10, intervalMs: 100, size: 0 });
    expect(readStreamParams('', 'sse', LIMITS)).toEqual({ count: 10, intervalMs: 1000, size: 0 });
  });

  it('reads count, interval and size', () => {
    expect(readStreamParams('?count=3&interval=1.5s&size=20', 'drip', LIMITS)).toEqual({
      count: 3,
      intervalMs: 1500,
      size: 20,
    });
  });

  it('ends an sse stream after a duration: the events within it, or count if fewer', () => {
    expect(readStreamParams('?interval=100ms&duration=250ms', 'sse', LIMITS)).toMatchObject({
      count: 3,
    });
    expect(readStreamParams('?interval=100ms&duration=1s&count=4', 'sse', LIMITS)).toMatchObject({
      count: 4,
    });
    expect(readStreamParams('?interval=100ms&duration=1s&count=40', 'sse', LIMITS)).toMatchObject({
      count: 11,
    });
  });

  it('takes its limits exactly', () => {
    expect(
      readStreamParams('?count=10000&interval=10ms', 'drip', { ...LIMITS, maxStreamMs: 99_990 }),
    ).toMatchObject({ count: 10000, intervalMs: 10 });
    expect(readStreamParams('?count=101&interval=100ms', 'drip', LIMITS)).toMatchObject({
      count: 101,
    });
    expect(readStreamParams('?count=5&size=20000', 'drip', LIMITS)).toMatchObject({ size: 20000 });
  });

  it.each([
    ['?count=0', 'count', 'NETLAB_ERR_BAD_CONTROL'],
    ['?count=x', 'count', 'NETLAB_ERR_BAD_CONTROL'],
    ['?count=10001&interval=10ms', 'count', 'NETLAB_ERR_CONTROL_OUT_OF_RANGE'],
    ['?count=102&interval=100ms', 'count', 'NETLAB_ERR_CONTROL_OUT_OF_RANGE'],
    ['?interval=11s', 'interval', 'NETLAB_ERR_CONTROL_OUT_OF_RANGE'],
    ['?interval=9ms', 'interval', 'NETLAB_ERR_CONTROL_OUT_OF_RANGE'],
    ['?interval=fast', 'interval', 'NETLAB_ERR_BAD_CONTROL'],
    ['?size=65537&count=1', 'size', 'NETLAB_ERR_CONTROL_OUT_OF_RANGE'],
    ['?size=20001&count=5', 'size', 'NETLAB_ERR_CONTROL_OUT_OF_RANGE'],
    ['?size=-1', 'size', 'NETLAB_ERR_BAD_CONTROL'],
  ])('drip%s is refused naming %s (%s)', (query, parameter, code) => {
    expect(readStreamParams(query, 'drip', LIMITS)).toMatchObject({ parameter, code });
  });

  it('refuses an sse duration over MAX_STREAM_MS, naming it', () => {
    expect(readStreamParams('?duration=11s', 'sse', LIMITS)).toMatchObject({
      parameter: 'duration',
      code: 'NETLAB_ERR_CONTROL_OUT_OF_RANGE',
    });
    expect(readStreamParams('?duration=soon', 'sse', LIMITS)).toMatchObject({
      parameter: 'duration',
      code: 'NETLAB_ERR_BAD_CONTROL',
    });
  });
});
