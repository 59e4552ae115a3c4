import { LogCapture } from '@netlab/testkit';
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
