import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogCapture } from '@netlab/testkit';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createLogger, flushLogger } from '../src/index.js';

describe('createLogger', () => {
  it('puts service, version, pid and a label level on every JSON line', () => {
    const sink = new LogCapture();
    const logger = createLogger({ service: 'svc', version: '1.2.3', destination: sink });
    logger.info({ port: 1 }, 'hello');
    logger.warn('second');
    expect(sink.lines).toHaveLength(2);
    for (const line of sink.lines) {
      expect(line).toMatchObject({ service: 'svc', version: '1.2.3', pid: process.pid });
      expect(Date.parse(line.time as string)).not.toBeNaN();
    }
    expect(sink.lines[0]).toMatchObject({ level: 'info', msg: 'hello', port: 1 });
    expect(sink.lines[1]).toMatchObject({ level: 'warn' });
  });

  it('drops lines below LOG_LEVEL', () => {
    const sink = new LogCapture();
    const logger = createLogger({ service: 's', version: '0', level: 'warn', destination: sink });
    logger.info('hidden');
    logger.error('shown');
    expect(sink.lines.map((l) => l.msg)).toEqual(['shown']);
  });

  it('serialises errors with their code', () => {
    const sink = new LogCapture();
    const logger = createLogger({ service: 's', version: '0', destination: sink });
    logger.error({ err: Object.assign(new Error('x'), { code: 'E_X' }) }, 'failed');
    expect(sink.lines[0]).toMatchObject({ err: { code: 'E_X', message: 'x' } });
  });

  it('flushLogger resolves even for a destination without flush support', async () => {
    const logger = createLogger({ service: 's', version: '0', destination: new LogCapture() });
    await expect(flushLogger(logger, 50)).resolves.toBeUndefined();
  });
});

describe('createLogger formats', () => {
  it('keeps numeric levels for pretty output (pino-pretty reads numbers), labels for JSON', () => {
    const pretty = new LogCapture();
    createLogger({ service: 's', version: '0', format: 'pretty', destination: pretty }).info('p');
    const json = new LogCapture();
    createLogger({ service: 's', version: '0', format: 'json', destination: json }).info('j');
    expect(pretty.lines[0]).toMatchObject({ level: 30, msg: 'p' });
    expect(json.lines[0]).toMatchObject({ level: 'info', msg: 'j' });
  });
});

describe('flushLogger', () => {
  it.each([4096, 0])(
    'writes every line an asynchronous destination (minLength %i) still holds, in order, before it resolves',
    async (minLength) => {
      const dir = await mkdtemp(join(tmpdir(), 'flush-logger-'));
      try {
        const path = join(dir, 'out');
        const destination = pino.destination({ dest: path, sync: false, minLength });
        await once(destination, 'ready');
        const logger = createLogger({ service: 's', version: '0', destination });
        for (let i = 0; i < 2000; i++) logger.info({ i }, 'line');
        await flushLogger(logger);
        const lines = readFileSync(path, 'utf8').trim().split('\n');
        expect(lines).toHaveLength(2000);
        expect(lines.map((l) => JSON.parse(l).i)).toEqual(
          Array.from({ length: 2000 }, (_, i) => i),
        );
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
