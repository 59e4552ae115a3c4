import { describe, expect, it } from 'vitest';
import { Outbox } from '../src/outbox.js';

describe('the outbox of replies waiting for the kernel', () => {
  it('is full at exactly max', () => {
    const outbox = new Outbox(2);
    expect(outbox.full).toBe(false);
    outbox.start();
    expect(outbox.full).toBe(false);
    outbox.start();
    expect([outbox.pending, outbox.full]).toEqual([2, true]);
    outbox.done();
    expect([outbox.pending, outbox.full]).toEqual([1, false]);
  });

  it('is idle at once when nothing waits, else once the last reply is done', async () => {
    const outbox = new Outbox(4);
    expect(await outbox.idle(0)).toBe(true);
    outbox.start();
    outbox.start();
    let idle: boolean | undefined;
    const waiting = outbox.idle(60_000).then((v) => {
      idle = v;
    });
    outbox.done();
    await Promise.resolve();
    expect(idle).toBeUndefined();
    outbox.done();
    await waiting;
    expect(idle).toBe(true);
  });

  it('gives up after the timeout with replies still waiting', async () => {
    const outbox = new Outbox(4);
    outbox.start();
    expect(await outbox.idle(10)).toBe(false);
  });

  it('with a timeout of 0 does not wait at all, not even a turn of the event loop', async () => {
    const outbox = new Outbox(4);
    outbox.start();
    let idle: boolean | undefined;
    void outbox.idle(0).then((v) => {
      idle = v;
    });
    await Promise.resolve();
    expect(idle).toBe(false);
  });
});
