import { describe, expect, it } from 'vitest';
import { errorBody, HTTP_ERRORS, HttpError, rawErrorResponse } from '../src/index.js';

describe('error responses', () => {
  it.each([
    ['NETLAB_ERR_BAD_REQUEST', '400 Bad Request'],
    ['NETLAB_ERR_REQUEST_TIMEOUT', '408 Request Timeout'],
    ['NETLAB_ERR_BODY_TOO_LARGE', '413 Payload Too Large'],
    ['NETLAB_ERR_HEADERS_TOO_LARGE', '431 Request Header Fields Too Large'],
  ] as const)('rawErrorResponse(%s) is a whole HTTP/1.1 %s with a JSON body', (code, line) => {
    const body = errorBody(code);
    expect(rawErrorResponse(code)).toBe(
      `HTTP/1.1 ${line}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
    expect(JSON.parse(body)).toEqual({
      error: HTTP_ERRORS[code].message,
      code,
      status: HTTP_ERRORS[code].status,
    });
  });

  it('every code gets a valid status line with its reason phrase', () => {
    expect(rawErrorResponse('NETLAB_ERR_NOT_FOUND')).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
  });

  it('HttpError carries the status and serialises as the body a client gets', () => {
    const err = new HttpError('NETLAB_ERR_DELAY_TOO_LONG');
    expect(err).toMatchObject({ code: 'NETLAB_ERR_DELAY_TOO_LONG', status: 400 });
    expect(err.name).toBe('HttpError');
    expect(JSON.parse(JSON.stringify(err))).toEqual(
      JSON.parse(errorBody(err.code as 'NETLAB_ERR_DELAY_TOO_LONG')),
    );
    expect(new HttpError('NETLAB_ERR_NOT_FOUND', 'no such thing').toJSON()).toEqual({
      error: 'no such thing',
      code: 'NETLAB_ERR_NOT_FOUND',
      status: 404,
    });
  });
});
