import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bool,
  ConfigError,
  commonVars,
  configTable,
  int,
  loadConfig,
  oneOf,
  parseConfig,
  port,
  string,
} from '../src/index.js';

const schema = {
  ...commonVars({ port: 7000, adminPort: 9000 }),
  FLAG: bool(false, 'a flag'),
  LIMIT: int({ default: 10, min: 1, max: 100, doc: 'a limit' }),
  NAME: string({ default: 'x', doc: 'a name', maxLength: 8 }),
  MODE: oneOf(['a', 'b'] as const, 'a', 'a mode'),
};

describe('parseConfig', () => {
  it('uses every default when the environment is empty, and freezes the result', () => {
    const result = parseConfig(schema, {});
    expect(result).toEqual({
      ok: true,
      config: {
        HOST: undefined,
        PORT: 7000,
        ADMIN_PORT: 9000,
        ADMIN_MAX_CONNECTIONS: 64,
        LOG_LEVEL: 'info',
        LOG_FORMAT: 'json',
        SHUTDOWN_TIMEOUT_MS: 10_000,
        LIVENESS_STALL_MS: 10_000,
        FLAG: false,
        LIMIT: 10,
        NAME: 'x',
        MODE: 'a',
      },
    });
    if (result.ok) expect(Object.isFrozen(result.config)).toBe(true);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig(schema, { PORT: '' }).PORT).toBe(7000);
  });

  it.each([
    ['PORT', '0', 0],
    ['PORT', '65535', 65535],
    ['LIMIT', '1', 1],
    ['LIMIT', '100', 100],
    ['FLAG', '1', true],
    ['FLAG', 'TRUE', true],
    ['FLAG', 'false', false],
    ['FLAG', '0', false],
    ['MODE', 'B', 'b'],
    ['LOG_FORMAT', 'pretty', 'pretty'],
    ['HOST', '::1', '::1'],
  ])('accepts %s=%s', (name, raw, value) => {
    expect(loadConfig(schema, { [name]: raw })[name as keyof typeof schema]).toBe(value);
  });

  it.each([
    ['PORT', 'abc', 'PORT: expected an integer 0-65535, got "abc"'],
    ['PORT', '12abc', 'PORT: expected an integer 0-65535, got "12abc"'],
    ['PORT', '65536', 'PORT: expected an integer 0-65535, got "65536"'],
    ['PORT', '-1', 'PORT: expected an integer 0-65535, got "-1"'],
    ['PORT', '1.5', 'PORT: expected an integer 0-65535, got "1.5"'],
    ['PORT', ' 80', 'PORT: expected an integer 0-65535, got " 80"'],
    ['PORT', '0x50', 'PORT: expected an integer 0-65535, got "0x50"'],
    ['LIMIT', '0', 'LIMIT: expected an integer 1-100, got "0"'],
    ['LIMIT', '1e2', 'LIMIT: expected an integer 1-100, got "1e2"'],
    ['FLAG', 'yes', 'FLAG: expected one of 1, 0, true, false, got "yes"'],
    ['MODE', 'c', 'MODE: expected one of a, b, got "c"'],
    ['NAME', '123456789', 'NAME: expected at most 8 characters, got 9'],
  ])('rejects %s=%s with one clear line', (name, raw, line) => {
    const result = parseConfig(schema, { [name]: raw });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((i) => `${i.variable}: ${i.message}`)).toEqual([line]);
  });

  it('reports every bad variable at once, in declaration order', () => {
    const result = parseConfig(schema, { MODE: 'z', PORT: 'x', FLAG: 'maybe' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((i) => i.variable)).toEqual(['PORT', 'FLAG', 'MODE']);
  });

  it('loadConfig throws a ConfigError with code NETLAB_ERR_CONFIG listing the issues', () => {
    try {
      loadConfig(schema, { PORT: 'x', LIMIT: '0' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).code).toBe('NETLAB_ERR_CONFIG');
      expect((err as ConfigError).issues.map((i) => i.variable)).toEqual(['PORT', 'LIMIT']);
    }
  });

  it('accepts exactly the decimal integers in range (property)', () => {
    const p = { P: port(1, 'p') };
    fc.assert(
      fc.property(fc.string(), (raw) => {
        const result = parseConfig(p, { P: raw });
        const valid = /^-?\d+$/.test(raw) && Number(raw) >= 0 && Number(raw) <= 65535;
        if (raw === '') return result.ok;
        return result.ok === valid && (!result.ok || result.config.P === Number(raw));
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: -100_000, max: 100_000 }), (n) => {
        const result = parseConfig(p, { P: String(n) });
        return result.ok === (n >= 0 && n <= 65535);
      }),
    );
  });
});

describe('configTable', () => {
  it('renders one row per variable with its default, type and doc', () => {
    const table = configTable({
      A: port(80, 'the port'),
      B: string({ default: undefined, doc: 'x|y' }),
    });
    expect(table.split('\n')).toEqual([
      '| variable | default | type | meaning |',
      '|---|---|---|---|',
      '| `A` | `80` | integer 0-65535 | the port |',
      '| `B` | _(unset)_ | string | x\\|y |',
    ]);
  });
});

describe('variable declarations', () => {
  it('int: min defaults to 0 and max to unbounded, and the table says so', () => {
    const spec = int({ default: undefined, doc: 'd' });
    expect(spec.kind).toBe('integer >= 0');
    expect(spec.defaultText).toBe('');
    expect(spec.parse('-1')).toEqual({ error: 'expected an integer >= 0, got "-1"' });
    expect(spec.parse(String(Number.MAX_SAFE_INTEGER))).toEqual({
      value: Number.MAX_SAFE_INTEGER,
    });
    expect(int({ default: 3, min: 1, max: 5, doc: 'd' }).kind).toBe('integer 1-5');
  });

  it('string: maxLength is inclusive and defaults to 4096; an unset default shows empty', () => {
    const short = string({ default: 'ab', doc: 'd', maxLength: 3 });
    expect(short.defaultText).toBe('"ab"');
    expect(short.parse('abc')).toEqual({ value: 'abc' });
    expect(short.parse('abcd')).toEqual({ error: 'expected at most 3 characters, got 4' });
    const plain = string({ default: undefined, doc: 'd' });
    expect(plain.defaultText).toBe('');
    expect(plain.parse('x'.repeat(4096))).toEqual({ value: 'x'.repeat(4096) });
    expect(plain.parse('x'.repeat(4097))).toHaveProperty('error');
  });
});
