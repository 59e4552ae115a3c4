import { describe, expect, it } from 'vitest';
import { prefersJson } from '../src/accept.js';

describe('prefersJson (RFC 9110 §12.5.1, text unless JSON is asked for)', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['*/*', false],
    ['text/plain', false],
    ['application/json', true],
    ['Application/JSON', true],
    ['application/*', true],
    ['application/json, */*', true],
    ['application/json;q=0.5, text/plain', false],
    ['text/plain;q=0.4, application/json;q=0.5', true],
    ['application/json;q=0', false],
    ['application/json;q=nonsense', false],
    ['application/json;charset=utf-8', true],
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', false],
    ['application/xml', false],
    ['application/json; q=0', false],
    ['application/json;q=1, text/plain', true],
    ['application/json;q=0.001', true],
    ['application/json;q=1.5', false],
    ['application/json;q=-1', false],
    ['application/json;q=0.7, text/plain;q=0.7', true],
    ['application/json;q=0.7, text/plain;q=0.8', false],
    ['application/json;q=0.7, text/*;q=0.8', false],
    ['application/json;q=0.7, */*;q=0.8', false],
    ['application/json;q=0.9, */*', false],
    ['application/json;level=1;q=0.5, text/plain;q=0.6', false],
    ['text/html, application/json;q=0.1', true],
  ])('Accept: %s → JSON %s', (accept, expected) => {
    expect(prefersJson(accept)).toBe(expected);
  });
});
