import { ConfigError, type ConfigIssue } from './errors.js';

/**
 * Config is data: every variable is declared once (type, default, doc,
 * constraints) and this module turns a declaration table plus an env object
 * into a frozen, typed config — or a list of every problem at once, so a
 * person fixing a deployment sees all bad variables in one run, not one per
 * restart.
 */

export interface VarSpec<T> {
  /** Short type name shown in docs, e.g. `integer 0-65535`. */
  readonly kind: string;
  /** The value used when the variable is unset or empty. `undefined` means optional with no value. */
  readonly default: T;
  readonly doc: string;
  /** Parses a non-empty raw string; returns the value or an error sentence ("expected …"). */
  readonly parse: (raw: string) => { value: T } | { error: string };
  /** How the default is written in the docs table. */
  readonly defaultText: string;
}

export type Schema = Readonly<Record<string, VarSpec<unknown>>>;
export type ConfigOf<S extends Schema> = { readonly [K in keyof S]: S[K]['default'] };
export type Env = Readonly<Record<string, string | undefined>>;

const INTEGER = /^-?\d+$/;

export interface IntOptions<T extends number | undefined = number> {
  default: T;
  doc: string;
  min?: number;
  max?: number;
}

export function int<T extends number | undefined>(opts: IntOptions<T>): VarSpec<number | T> {
  const min = opts.min ?? 0;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `${min}-${max}`;
  return {
    kind: `integer ${range}`,
    default: opts.default,
    doc: opts.doc,
    defaultText: opts.default === undefined ? '' : String(opts.default),
    parse(raw) {
      // Number('12abc') is NaN but parseInt('12abc') is 12: be strict, a typo
      // in a limit must not silently become a different limit.
      if (!INTEGER.test(raw)) return { error: `expected an integer ${range}, got "${raw}"` };
      const value = Number(raw);
      if (!Number.isSafeInteger(value) || value < min || value > max) {
        return { error: `expected an integer ${range}, got "${raw}"` };
      }
      return { value };
    },
  };
}

export function port(defaultPort: number, doc: string): VarSpec<number> {
  return int({ default: defaultPort, doc, min: 0, max: 65535 });
}

const TRUE = new Set(['1', 'true']);
const FALSE = new Set(['0', 'false']);

export function bool(defaultValue: boolean, doc: string): VarSpec<boolean> {
  return {
    kind: 'boolean (1/0/true/false)',
    default: defaultValue,
    doc,
    defaultText: String(defaultValue),
    parse(raw) {
      const v = raw.toLowerCase();
      if (TRUE.has(v)) return { value: true };
      if (FALSE.has(v)) return { value: false };
      return { error: `expected one of 1, 0, true, false, got "${raw}"` };
    },
  };
}

export interface StringOptions<T extends string | undefined> {
  default: T;
  doc: string;
  /** Longest accepted value, in characters. */
  maxLength?: number;
}

export function string<T extends string | undefined>(opts: StringOptions<T>): VarSpec<string | T> {
  const maxLength = opts.maxLength ?? 4096;
  return {
    kind: 'string',
    default: opts.default,
    doc: opts.doc,
    defaultText: opts.default === undefined ? '' : JSON.stringify(opts.default),
    parse(raw) {
      if (raw.length > maxLength) {
        return { error: `expected at most ${maxLength} characters, got ${raw.length}` };
      }
      return { value: raw };
    },
  };
}

export function oneOf<const V extends readonly string[]>(
  values: V,
  defaultValue: V[number],
  doc: string,
): VarSpec<V[number]> {
  return {
    kind: values.join(' \\| '),
    default: defaultValue,
    doc,
    defaultText: defaultValue,
    parse(raw) {
      const v = raw.toLowerCase();
      const found = values.find((allowed) => allowed === v);
      if (found === undefined)
        return { error: `expected one of ${values.join(', ')}, got "${raw}"` };
      return { value: found };
    },
  };
}

/**
 * Parses `env` against `schema`. Pure: no process access, no logging.
 * An empty string counts as unset, as in most shells' `${VAR:-default}`.
 */
export function parseConfig<S extends Schema>(
  schema: S,
  env: Env,
): { ok: true; config: ConfigOf<S> } | { ok: false; issues: ConfigIssue[] } {
  const config: Record<string, unknown> = {};
  const issues: ConfigIssue[] = [];
  for (const [name, spec] of Object.entries(schema)) {
    const raw = env[name];
    if (raw === undefined || raw === '') {
      config[name] = spec.default;
      continue;
    }
    const result = spec.parse(raw);
    if ('error' in result) issues.push({ variable: name, message: result.error });
    else config[name] = result.value;
  }
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, config: Object.freeze(config) as ConfigOf<S> };
}

/** Like parseConfig, but throws a ConfigError (code NETLAB_ERR_CONFIG) listing every issue. */
export function loadConfig<S extends Schema>(schema: S, env: Env): ConfigOf<S> {
  const result = parseConfig(schema, env);
  if (!result.ok) throw new ConfigError(result.issues);
  return result.config;
}

/** The README config table, generated from the same declarations the parser uses. */
export function configTable(schema: Schema): string {
  const rows = Object.entries(schema).map(([name, spec]) => {
    const def = spec.defaultText === '' ? '_(unset)_' : `\`${spec.defaultText}\``;
    return `| \`${name}\` | ${def} | ${spec.kind} | ${spec.doc.replaceAll('|', '\\|')} |`;
  });
  return ['| variable | default | type | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
