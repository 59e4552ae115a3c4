import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { simpleRequestLine } from '../src/index.js';

describe('simpleRequestLine', () => {
  it.each([
    ['GET /\r\n', { method: 'GET', path: '/' }],
    ['GET /a?b=c\n', { method: 'GET', path: '/a?b=c' }],
    ['\r\n\nDELETE /x\r\nHost: a\r\n\r\n', { method: 'DELETE', path: '/x' }],
    ['GET http://h/p\r\n', { method: 'GET', path: 'http://h/p' }],
  ])('finds the simple request in %j', (bytes, line) => {
    expect(simpleRequestLine(Buffer.from(bytes, 'latin1'))).toEqual(line);
  });

  it.each([
    'GET / HTTP/1.1\r\n',
    'GET / HTTP/0.9\r\n',
    'GET /', // the line has not ended yet
    'GET /\r',
    'GET\r\n',
    'GET  /\r\n',
    'GET / \r\n',
    '\r\n',
    '',
    'G(T /\r\n',
  ])('finds none in %j', (bytes) => {
    expect(simpleRequestLine(Buffer.from(bytes, 'latin1'))).toBeUndefined();
  });

  it('cuts a long target to 1,024 characters for the log', () => {
    const target = `/${'a'.repeat(5000)}`;
    expect(simpleRequestLine(Buffer.from(`GET ${target}\r\n`))?.path).toBe(target.slice(0, 1024));
  });

  it('never takes an HTTP/1.x request line, however it is cut', () => {
    const token = fc.stringMatching(/^[A-Z]{1,10}$/);
    const target = fc.stringMatching(/^\/[!-~]{0,40}$/);
    fc.assert(
      fc.property(token, target, fc.constantFrom('1.0', '1.1'), fc.nat(60), (m, t, v, cut) => {
        const line = Buffer.from(`${m} ${t} HTTP/${v}\r\nHost: a\r\n\r\n`, 'latin1');
        expect(simpleRequestLine(line.subarray(0, Math.min(cut, line.length)))).toBeUndefined();
        expect(simpleRequestLine(line)).toBeUndefined();
      }),
    );
  });
});
