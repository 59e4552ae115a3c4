/**
 * What the runner reads in an app's log lines: its "ready" line, and each
 * line's level. The apps log pino JSON (`LOG_FORMAT=json`) or pino-pretty
 * (`pretty`, the runner's default); both carry the same message.
 */

// pino-pretty's colours, when FORCE_COLOR is set.
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are what we strip
const ANSI = /\x1b\[[0-9;]*m/g;
const PRETTY = /^\[[0-9:.]+\] (TRACE|DEBUG|INFO|WARN|ERROR|FATAL): (.*)$/;

export const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type Level = (typeof LEVELS)[number];

interface Parsed {
  level: Level;
  msg: string;
  json?: Record<string, unknown>;
}

function parse(line: string): Parsed | undefined {
  const plain = line.replace(ANSI, '');
  if (plain.startsWith('{')) {
    try {
      const json = JSON.parse(plain) as Record<string, unknown>;
      if (typeof json.level !== 'string' || typeof json.msg !== 'string') return undefined;
      if (!(LEVELS as readonly string[]).includes(json.level)) return undefined;
      return { level: json.level as Level, msg: json.msg, json };
    } catch {
      return undefined;
    }
  }
  const m = PRETTY.exec(plain);
  return m ? { level: m[1]!.toLowerCase() as Level, msg: m[2]! } : undefined;
}

/** The level of a log line, or undefined for anything else (a stack trace, stderr). */
export function levelOf(line: string): Level | undefined {
  return parse(line)?.level;
}

/**
 * The ports of the app's "ready" line (lifecycle.ts: `<name> ready on port
 * P, admin on port A`), or undefined when the line is not that. A JSON line
 * must also come from the process itself (its pid), not be a logged payload.
 */
export function readyPorts(
  line: string,
  name: string,
  pid: number | undefined,
): { port: number; adminPort: number } | undefined {
  const parsed = parse(line);
  if (parsed?.level !== 'info') return undefined;
  if (parsed.json && parsed.json.pid !== pid) return undefined;
  const m = new RegExp(
    `^${escapeRegExp(name)} ready on port (\\d+), admin on port (\\d+)(?: \\{.*\\})?$`,
  ).exec(parsed.msg);
  return m ? { port: Number(m[1]), adminPort: Number(m[2]) } : undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
