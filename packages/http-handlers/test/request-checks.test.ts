import { describe, expect, it } from 'vitest';
import { declaresBody, type HttpRequest, requestProblem } from '../src/index.js';

// The decisions only: what reaches a client is tested on real sockets in
// hostile.test.ts of http-hello, dns-resolver-api and video-streamer.

/** The fields the checks read of a parsed request. */
function parsed(version: string, headers: string[]): HttpRequest {
  const [major, minor] = version.split('.').map(Number);
  return {
    httpVersion: version,
    httpVersionMajor: major,
    httpVersionMinor: minor,
    rawHeaders: headers.flatMap((h) => h.split(': ')),
  } as unknown as HttpRequest;
}

describe('requestProblem', () => {
  it.each([
    ['1.1', ['Host: a'], undefined],
    ['1.0', [], undefined],
    ['1.1', ['host: a', 'Transfer-Encoding: Chunked'], undefined],
    ['1.1', [], 'NETLAB_ERR_MISSING_HOST'],
    ['1.1', ['Host: a', 'HOST: b'], 'NETLAB_ERR_DUPLICATE_HOST'],
    ['1.0', ['Host: a', 'Host: a'], 'NETLAB_ERR_DUPLICATE_HOST'],
    ['1.1', ['Host: a', 'Transfer-Encoding: gzip'], 'NETLAB_ERR_UNSUPPORTED_TRANSFER_ENCODING'],
    [
      '1.1',
      ['Host: a', 'Transfer-Encoding: identity, chunked'],
      'NETLAB_ERR_UNSUPPORTED_TRANSFER_ENCODING',
    ],
    [
      '1.1',
      ['Host: a', 'Transfer-Encoding: " chunked "'],
      'NETLAB_ERR_UNSUPPORTED_TRANSFER_ENCODING',
    ],
    [
      '1.1',
      ['Host: a', 'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'],
      'NETLAB_ERR_UNSUPPORTED_TRANSFER_ENCODING',
    ],
    ['2.0', ['Host: a'], 'NETLAB_ERR_HTTP_VERSION'],
    ['1.1', ['Host: a b'], 'NETLAB_ERR_BAD_HOST'],
    ['1.1', ['Host: <x>'], 'NETLAB_ERR_BAD_HOST'],
    ['1.1', ['Host: a/b'], 'NETLAB_ERR_BAD_HOST'],
    ['1.1', ['Host: [::1'], 'NETLAB_ERR_BAD_HOST'],
    ['1.1', ['Host: [::1]x'], 'NETLAB_ERR_BAD_HOST'],
    ['1.1', ['Host: [nothex]'], 'NETLAB_ERR_BAD_HOST'],
    ['1.1', ['Host: a:80:80'], 'NETLAB_ERR_BAD_HOST'],
    ['1.1', ['Host: a@b'], 'NETLAB_ERR_BAD_HOST'],
    ['1.1', ['Host: a%zz'], 'NETLAB_ERR_BAD_HOST'],
    ['1.0', ['Host: a b'], 'NETLAB_ERR_BAD_HOST'],
    ['1.1', ['Host: [::1]:8080'], undefined],
    ['1.1', ['Host: [::1]'], undefined],
    ['1.1', ['Host: [v1.fe80::a+en1]'], undefined],
    ['1.1', ['Host: example.com:80'], undefined],
    ['1.1', ['Host: 127.0.0.1:8080'], undefined],
    ['1.1', ['Host: xn--bcher-kva.example'], undefined],
    ['1.1', ['Host: my_host.local'], undefined],
    ['1.1', ['Host: a%2Db'], undefined],
    ['1.1', ['Host: '], undefined],
    ['0.9', ['Host: a'], 'NETLAB_ERR_HTTP_VERSION'],
  ])('HTTP/%s with %j: %s', (version, headers, code) => {
    expect(requestProblem(parsed(version, headers), 100)).toBe(code);
  });

  it('takes exactly maxHeadersCount header lines, and refuses one more with 431', () => {
    const lines = (n: number) => [
      'Host: a',
      ...Array.from({ length: n - 1 }, (_, i) => `X-${i}: v`),
    ];
    expect(requestProblem(parsed('1.1', lines(10)), 10)).toBeUndefined();
    expect(requestProblem(parsed('1.1', lines(11)), 10)).toBe('NETLAB_ERR_TOO_MANY_HEADERS');
  });
});

describe('declaresBody', () => {
  it.each([
    [[], false],
    [['Content-Length: 0'], false],
    [['content-length: 5'], true],
    [['Transfer-Encoding: chunked'], true],
    [['Host: a', 'X-Content-Length: 5'], false],
  ])('%j: %s', (headers, body) => {
    expect(declaresBody(parsed('1.1', headers))).toBe(body);
  });
});
