import { Readable } from 'node:stream';
import type { HttpErrorCode } from './errors.js';

/**
 * Answer control: a request chooses how it is answered (status, delay, size,
 * added headers, closing the connection), each either fixed or as a
 * distribution, in fortio's syntax so a user's existing commands work:
 *
 *   /echo?status=503:10,429:5&delay=50ms:20,1s:1&size=1024:50&close=5&header=X-A:1
 *
 * `value:percent` pairs: 503 in 10% of answers, 429 in 5%, the route's own
 * answer in the other 85%. A bare value is 100%. The same controls come as
 * request headers (`X-Netlab-Status: 503:10`) for clients that cannot change
 * the URL; a control given both ways takes the query's.
 *
 * `only=<hostname or pid>` applies the controls only in the process that
 * matches (one replica of five fails, the others answer), and `seed=` draws
 * from a seeded generator, so the same seed gives the same outcome.
 *
 * Every value is checked against the app's limits: out of range is a 400
 * naming the parameter, never a silent clamp.
 */

export interface AnswerLimits {
  /** The longest delay (MAX_DELAY_MS). */
  maxDelayMs: number;
  /** The largest `size` (MAX_ANSWER_BYTES). */
  maxAnswerBytes: number;
  /** The most `header` controls (MAX_ANSWER_HEADERS). */
  maxAnswerHeaders: number;
}

/** What a request asked for, drawn: the faults to inject into this one answer. */
export interface AnswerControl {
  /** Replaces the route's 200. */
  status: number | undefined;
  /** Milliseconds to wait before answering (0: none). */
  delayMs: number;
  /** The body becomes this many bytes of filler. */
  size: number | undefined;
  /** Close the connection after the answer. */
  close: boolean;
  /** Response headers to add, lower-cased names, checked. */
  headers: Array<[string, string]>;
  /** The kinds injected, comma-separated, for the access line: `status,delay`. */
  faults: string;
}

/** A control the handler refuses: its code, and a message naming the parameter. */
export interface ControlRefusal {
  code: HttpErrorCode;
  parameter: string;
  message: string;
}

/** The fault kinds, in the order they are counted and logged. */
export const FAULT_KINDS = ['status', 'delay', 'size', 'close', 'header'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

const PARAMS = ['status', 'delay', 'size', 'close', 'header', 'only', 'seed'] as const;
type Param = (typeof PARAMS)[number];

// At most this many `value:percent` pairs in one distribution.
const MAX_PAIRS = 16;
// An added header's value: visible ASCII, space and tab only. No CR or LF
// (response splitting), no NUL, nothing Node would refuse to send.
const FIELD_VALUE = /^[\t\x20-\x7e]{0,1024}$/;
// RFC 9110 §5.6.2: a header name is a token.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;
// Headers a client may not add: they frame the message or belong to the
// connection (RFC 9110 §7.6.1, RFC 9113 §8.2.2); forging them would make the
// answer unparseable or lie about the hop. x-request-id is ours.
const FORBIDDEN = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'upgrade',
  'te',
  'trailer',
  'host',
  'date',
  'x-request-id',
]);
const SEED = /^[\x21-\x7e]{1,64}$/;
const ONLY = /^[\x21-\x7e]{1,255}$/;

/**
 * Whether a request carries any control: a query string or an `X-Netlab-*`
 * header. The cheap test `GET /` pays: no parsing, one pass over the header
 * names comparing their first characters.
 */
export function mayControl(query: string, rawHeaders: readonly string[]): boolean {
  if (query.length > 1) return true;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    // `x-netlab-`: 'x' or 'X', then '-' at 1 and at 8.
    if (
      name.length > 9 &&
      name.charCodeAt(1) === 45 &&
      name.charCodeAt(8) === 45 &&
      (name.charCodeAt(0) | 32) === 120
    ) {
      return true;
    }
  }
  return false;
}

/** Who is answering, for `only=`. */
export interface Replica {
  hostname: string;
  pid: number;
}

/**
 * Reads the controls of one request (its query string, with the `?`, and its
 * raw headers): undefined when there are none (or `only=` names another
 * process), a ControlRefusal when one is malformed or out of range.
 */
export function readControl(
  query: string,
  rawHeaders: readonly string[],
  limits: AnswerLimits,
  replica: Replica,
): AnswerControl | ControlRefusal | undefined {
  const given = new Map<Param, string[]>();
  if (query.length > 1) {
    let params: URLSearchParams;
    try {
      params = new URLSearchParams(query.slice(1));
    } catch {
      return undefined;
    }
    for (const [name, value] of params) {
      if (!isParam(name)) continue;
      const list = given.get(name);
      if (list === undefined) given.set(name, [value]);
      else list.push(value);
    }
  }
  const fromHeaders = new Map<Param, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length <= 9 || name.slice(0, 9).toLowerCase() !== 'x-netlab-') continue;
    const param = name.slice(9).toLowerCase();
    if (!isParam(param)) continue;
    const list = fromHeaders.get(param);
    if (list === undefined) fromHeaders.set(param, [rawHeaders[i + 1]!]);
    else list.push(rawHeaders[i + 1]!);
  }
  for (const [param, values] of fromHeaders) {
    if (!given.has(param)) given.set(param, values);
  }
  if (given.size === 0) return undefined;

  for (const param of ['status', 'delay', 'size', 'close', 'only', 'seed'] as const) {
    const values = given.get(param);
    if (values !== undefined && values.length > 1) {
      return refuse('NETLAB_ERR_BAD_CONTROL', param, 'given more than once');
    }
  }

  const status = distribution(given.get('status')?.[0], 'status', parseStatus);
  if (isRefusal(status)) return status;
  const delay = distribution(given.get('delay')?.[0], 'delay', (t) =>
    parseDelay(t, limits.maxDelayMs),
  );
  if (isRefusal(delay)) return delay;
  const size = distribution(given.get('size')?.[0], 'size', (t) =>
    parseSize(t, limits.maxAnswerBytes),
  );
  if (isRefusal(size)) return size;
  const close = closeChance(given.get('close')?.[0]);
  if (isRefusal(close)) return close;
  const headers = addedHeaders(given.get('header') ?? [], limits.maxAnswerHeaders);
  if (isRefusal(headers)) return headers;
  const seedText = given.get('seed')?.[0];
  if (seedText !== undefined && !SEED.test(seedText)) {
    return refuse('NETLAB_ERR_BAD_CONTROL', 'seed', 'expected 1-64 visible ASCII characters');
  }
  const only = given.get('only')?.[0];
  if (only !== undefined) {
    if (!ONLY.test(only)) {
      return refuse('NETLAB_ERR_BAD_CONTROL', 'only', 'expected a hostname or a pid');
    }
    if (only !== replica.hostname && only !== String(replica.pid)) return undefined;
  }

  // One draw per control, always in this order, so that a seed fixes every
  // outcome whichever controls are given.
  const random = seedText === undefined ? Math.random : seeded(seedText);
  const drawn: AnswerControl = {
    status: draw(status, random()),
    delayMs: draw(delay, random()) ?? 0,
    size: draw(size, random()),
    close: close !== undefined && random() * 100 < close,
    headers,
    faults: '',
  };
  const faults: string[] = [];
  if (drawn.status !== undefined) faults.push('status');
  if (drawn.delayMs > 0) faults.push('delay');
  if (drawn.size !== undefined) faults.push('size');
  if (drawn.close) faults.push('close');
  if (headers.length > 0) faults.push('header');
  drawn.faults = faults.join(',');
  return drawn;
}

export function isRefusal(value: unknown): value is ControlRefusal {
  return typeof value === 'object' && value !== null && 'parameter' in value;
}

function isParam(name: string): name is Param {
  return (PARAMS as readonly string[]).includes(name);
}

function refuse(code: HttpErrorCode, parameter: string, message: string): ControlRefusal {
  return { code, parameter, message: `${parameter}: ${message}` };
}

type Pairs = Array<{ value: number; percent: number }>;
type ValueResult = number | { code: HttpErrorCode; message: string };

/** `v`, or `v:p,v:p,…` (percents summing to at most 100). */
function distribution(
  text: string | undefined,
  param: string,
  parse: (text: string) => ValueResult,
): Pairs | ControlRefusal | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(',');
  if (parts.length > MAX_PAIRS) {
    return refuse('NETLAB_ERR_CONTROL_OUT_OF_RANGE', param, `more than ${MAX_PAIRS} pairs`);
  }
  const pairs: Pairs = [];
  let total = 0;
  for (const part of parts) {
    const colon = part.lastIndexOf(':');
    const valueText = colon === -1 ? part : part.slice(0, colon);
    let percent = 100;
    if (colon !== -1) {
      percent = parsePercent(part.slice(colon + 1));
      if (Number.isNaN(percent)) {
        return refuse(
          'NETLAB_ERR_BAD_CONTROL',
          param,
          `expected a percent 0-100 in "${clip(part)}"`,
        );
      }
    }
    const value = parse(valueText);
    if (typeof value !== 'number') return refuse(value.code, param, value.message);
    total += percent;
    pairs.push({ value, percent });
  }
  if (total > 100 + 1e-9) {
    return refuse(
      'NETLAB_ERR_CONTROL_OUT_OF_RANGE',
      param,
      `percents add up to ${total}, over 100`,
    );
  }
  return pairs;
}

function draw(pairs: Pairs | undefined, r: number): number | undefined {
  if (pairs === undefined) return undefined;
  let at = r * 100;
  for (const { value, percent } of pairs) {
    if (at < percent) return value;
    at -= percent;
  }
  return undefined;
}

const NUMBER = /^\d{1,10}(\.\d{1,6})?$/;

function parsePercent(text: string): number {
  if (!NUMBER.test(text)) return Number.NaN;
  const n = Number(text);
  return n <= 100 ? n : Number.NaN;
}

function parseStatus(text: string): ValueResult {
  if (!/^\d{3}$/.test(text)) {
    return {
      code: 'NETLAB_ERR_BAD_CONTROL',
      message: `expected a status code 200-599, got "${clip(text)}"`,
    };
  }
  const code = Number(text);
  if (code < 200 || code > 599) {
    return {
      code: 'NETLAB_ERR_CONTROL_OUT_OF_RANGE',
      message: `${code} is not a status code 200-599`,
    };
  }
  return code;
}

const DURATION = /^(\d{1,10}(?:\.\d{1,6})?)(us|µs|ms|s|m)?$/;
const UNIT_MS: Record<string, number> = { us: 0.001, µs: 0.001, ms: 1, s: 1000, m: 60_000 };

/** Go-style durations as fortio takes them (`50ms`, `1.5s`, `2m`); a bare number is milliseconds. */
function parseDelay(text: string, maxDelayMs: number): ValueResult {
  const match = DURATION.exec(text);
  if (match === null) {
    return {
      code: 'NETLAB_ERR_BAD_CONTROL',
      message: `expected a duration like 50ms or 1s, got "${clip(text)}"`,
    };
  }
  const ms = Math.round(Number(match[1]) * UNIT_MS[match[2] ?? 'ms']!);
  if (ms > maxDelayMs) {
    return {
      code: 'NETLAB_ERR_CONTROL_OUT_OF_RANGE',
      message: `${text} is over MAX_DELAY_MS (${maxDelayMs} ms)`,
    };
  }
  return ms;
}

function parseSize(text: string, maxBytes: number): ValueResult {
  if (!/^\d{1,15}$/.test(text)) {
    return {
      code: 'NETLAB_ERR_BAD_CONTROL',
      message: `expected a size in bytes, got "${clip(text)}"`,
    };
  }
  const n = Number(text);
  if (n > maxBytes) {
    return {
      code: 'NETLAB_ERR_CONTROL_OUT_OF_RANGE',
      message: `${n} is over MAX_ANSWER_BYTES (${maxBytes})`,
    };
  }
  return n;
}

/** `close` or `close=true`: always; `close=<percent>`: that often (fortio's). */
function closeChance(text: string | undefined): number | ControlRefusal | undefined {
  if (text === undefined) return undefined;
  if (text === '' || text === 'true') return 100;
  if (text === 'false') return undefined;
  const percent = parsePercent(text);
  if (Number.isNaN(percent)) {
    return refuse(
      'NETLAB_ERR_BAD_CONTROL',
      'close',
      `expected true or a percent 0-100, got "${clip(text)}"`,
    );
  }
  return percent;
}

function addedHeaders(values: string[], max: number): Array<[string, string]> | ControlRefusal {
  if (values.length > max) {
    return refuse(
      'NETLAB_ERR_CONTROL_OUT_OF_RANGE',
      'header',
      `more than MAX_ANSWER_HEADERS (${max})`,
    );
  }
  const headers: Array<[string, string]> = [];
  for (const text of values) {
    const colon = text.indexOf(':');
    const name = colon === -1 ? text : text.slice(0, colon);
    const value = colon === -1 ? '' : text.slice(colon + 1).trim();
    if (colon === -1 || !TOKEN.test(name)) {
      return refuse(
        'NETLAB_ERR_BAD_CONTROL',
        'header',
        `expected Name:value with a token name, got "${clip(text)}"`,
      );
    }
    const lower = name.toLowerCase();
    if (FORBIDDEN.has(lower)) {
      return refuse(
        'NETLAB_ERR_BAD_CONTROL',
        'header',
        `${lower} may not be set (it frames the message or the connection)`,
      );
    }
    if (!FIELD_VALUE.test(value)) {
      return refuse(
        'NETLAB_ERR_BAD_CONTROL',
        'header',
        `the value of ${lower} must be visible ASCII, at most 1024 characters`,
      );
    }
    headers.push([lower, value]);
  }
  return headers;
}

// The client's text goes back in the error message: cut to a sane length.
function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** mulberry32 seeded by the FNV-1a hash of `seed`: small, fast, and the same everywhere. */
export function seeded(seed: string): () => number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// The filler of a `size` answer: printable, so a terminal shows it, and
// shared, so an answer of any size allocates nothing per request.
const FILL = Buffer.alloc(64 * 1024, 'abcdefghijklmnopqrstuvwxyz0123456789\n');

/** `size` bytes of filler as a stream: pipe it to the response and backpressure holds. */
export function filler(size: number): Readable {
  let left = size;
  return new Readable({
    read() {
      if (left === 0) {
        this.push(null);
        return;
      }
      const n = Math.min(left, FILL.length);
      left -= n;
      this.push(FILL.subarray(0, n));
    },
  });
}

/** The filler as a string, for answers small enough to go in one write. */
export function fillerText(size: number): string {
  return FILL.toString('latin1', 0, size);
}
