import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, FdDestination, flushLogger } from '@netlab/common';
import { LogCapture } from '@netlab/testkit';
import { describe, expect, it } from 'vitest';
import { type AccessLogOptions, createAccessLog } from '../src/access-log.js';

const entry = {
  method: 'GET',
  path: '/a "quoted" \\ path/\u2028é',
  status: 200,
  bytes: 11,
  durationMs: 0.25,
  requestId: 'abc-1',
};

/** An access log on an in-memory destination that also records each write it gets. */
function recordedLog(opts?: AccessLogOptions) {
  const capture = new LogCapture();
  const writes: string[] = [];
  const original = capture.write.bind(capture);
  capture.write = ((chunk: string, ...rest: never[]) => {
    writes.push(chunk);
    return original(chunk, ...rest);
  }) as typeof capture.write;
  const logger = createLogger({ service: 's', version: '1', destination: capture });
  return { capture, writes, log: createAccessLog(logger, opts)! };
}

const linesIn = (chunk: string) => chunk.split('\n').length - 1;

describe('the access log', () => {
  it('writes the very line logger.info would, keys in the same order', async () => {
    const fastCapture = new LogCapture();
    const plainCapture = new LogCapture();
    const fast = createLogger({ service: 's', version: '1', destination: fastCapture });
    const plain = createLogger({ service: 's', version: '1', destination: plainCapture });
    createAccessLog(fast)!.write(entry);
    plain.info(entry, 'request');
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.all([flushLogger(fast), flushLogger(plain)]);
    const [a] = fastCapture.lines;
    const [b] = plainCapture.lines;
    expect(a).toBeDefined();
    expect(Object.keys(a!)).toEqual(Object.keys(b!));
    expect({ ...a, time: 0 }).toEqual({ ...b, time: 0 });
  });

  it('adds the peer and the client behind a PROXY protocol balancer, as logger.info would', async () => {
    const fastCapture = new LogCapture();
    const plainCapture = new LogCapture();
    const fast = createLogger({ service: 's', version: '1', destination: fastCapture });
    const plain = createLogger({ service: 's', version: '1', destination: plainCapture });
    const origin = { peer: '10.0.0.2', client: '2001:db8::7', clientPort: 40000 };
    createAccessLog(fast)!.write({ ...entry, origin });
    plain.info({ ...entry, ...origin }, 'request');
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.all([flushLogger(fast), flushLogger(plain)]);
    expect({ ...fastCapture.lines[0], time: 0 }).toEqual({ ...plainCapture.lines[0], time: 0 });
    expect(fastCapture.lines[0]).toMatchObject(origin);
  });

  it('adds the error code of a refused request', async () => {
    const capture = new LogCapture();
    const logger = createLogger({ service: 's', version: '1', destination: capture });
    createAccessLog(logger)!.write({ ...entry, status: 413, code: 'NETLAB_ERR_BODY_TOO_LARGE' });
    const line = await capture.waitFor((l) => l.msg === 'request');
    expect(line).toMatchObject({ status: 413, code: 'NETLAB_ERR_BODY_TOO_LARGE', level: 'info' });
  });

  it('collects the lines of one event-loop turn into one write', async () => {
    const { capture, writes, log } = recordedLog();
    for (let i = 0; i < 5; i++) log.write({ ...entry, requestId: `r-${i}` });
    await capture.waitFor((l) => l.requestId === 'r-4');
    expect(writes.map(linesIn)).toEqual([5]);
    expect(capture.lines.map((l) => l.requestId)).toEqual(['r-0', 'r-1', 'r-2', 'r-3', 'r-4']);
  });

  it('is off below info', () => {
    const logger = createLogger({
      service: 's',
      version: '1',
      level: 'warn',
      destination: new LogCapture(),
    });
    expect(createAccessLog(logger)).toBeUndefined();
  });
});

describe('the access log under load', () => {
  it('keeps every write under PIPE_BUF when workers share a pipe, so lines never interleave', async () => {
    const { capture, writes, log } = recordedLog({ sharedOutput: true });
    for (let i = 0; i < 200; i++) log.write({ ...entry, requestId: `r-${i}` });
    await capture.waitFor((l) => l.requestId === 'r-199');
    expect(writes.length).toBeGreaterThan(1);
    for (const chunk of writes) expect(Buffer.byteLength(chunk)).toBeLessThanOrEqual(4096);
    expect(capture.lines.map((l) => l.requestId)).toEqual(
      Array.from({ length: 200 }, (_, i) => `r-${i}`),
    );
  });

  it('writes a busy turn of a process with stdout to itself in one piece', async () => {
    const { capture, writes, log } = recordedLog();
    for (let i = 0; i < 200; i++) log.write({ ...entry, requestId: `r-${i}` });
    await capture.waitFor((l) => l.requestId === 'r-199');
    expect(writes.map(linesIn)).toEqual([200]);
  });
});

describe('the access log on netlab’s own destination', () => {
  it('hands it bytes, and writes what logger.info writes, in order with the logger’s own lines', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'access-log-'));
    const path = join(dir, 'out.log');
    const fd = openSync(path, 'w');
    const destination = new FdDestination(fd);
    const logger = createLogger({ service: 's', version: '1', destination });
    const log = createAccessLog(logger)!;
    logger.info('before');
    // The batch goes out as bytes (writeBytes), never as a string.
    const write = destination.write;
    destination.write = () => {
      throw new Error('the access log wrote a string');
    };
    log.write(entry);
    log.flush();
    destination.write = write;
    logger.info(entry, 'request');
    logger.info('after');
    closeSync(fd);
    const lines = (await readFile(path, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.msg)).toEqual(['before', 'request', 'request', 'after']);
    const [, fast, plain] = lines;
    expect(Object.keys(fast!)).toEqual(Object.keys(plain!));
    expect({ ...fast, time: 0 }).toEqual({ ...plain, time: 0 });
    await rm(dir, { recursive: true });
  });
});
