import { describe, expect, it } from 'vitest';
import { ConfigError, formatIssue, NetlabError } from '../src/index.js';

describe('errors', () => {
  it('NetlabError carries its code, message, cause and name', () => {
    const cause = new Error('under');
    const err = new NetlabError('NETLAB_ERR_X', 'went wrong', { cause });
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ code: 'NETLAB_ERR_X', message: 'went wrong', cause });
    expect(err.name).toBe('NetlabError');
  });

  it('ConfigError lists one issue per line, formatted as stderr shows them', () => {
    const issues = [
      { variable: 'PORT', message: 'expected an integer 0-65535, got "abc"' },
      { variable: 'X', message: 'bad' },
    ];
    const err = new ConfigError(issues);
    expect(err).toBeInstanceOf(NetlabError);
    expect(err.name).toBe('ConfigError');
    expect(err.code).toBe('NETLAB_ERR_CONFIG');
    expect(err.issues).toEqual(issues);
    expect(err.message).toBe('PORT: expected an integer 0-65535, got "abc"\nX: bad');
    expect(formatIssue(issues[1]!)).toBe('X: bad');
  });
});
