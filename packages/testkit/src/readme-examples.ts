import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Example {
  /** The command as a person would paste it. */
  command: string;
  /** The lines the README says it prints; `...` alone matches any lines, inside a line any text. */
  expected: string[];
  /** 1-based line of the command in the README, for failure messages. */
  line: number;
}

/**
 * The examples of a README: every ```console block, each `$ ` line a command
 * (a trailing backslash continues it) and the lines after it, up to the next
 * `$ `, what it prints. Keeping examples in this one shape is what lets the
 * test suite run them, so the docs cannot drift from the code.
 */
export function readExamples(readmePath: string): Example[] {
  const lines = readFileSync(readmePath, 'utf8').split('\n');
  const examples: Example[] = [];
  let inConsole = false;
  let current: Example | undefined;
  let continuing = false;
  lines.forEach((text, index) => {
    if (/^```/.test(text)) {
      inConsole = !inConsole && text.trim() === '```console';
      current = undefined;
      return;
    }
    if (!inConsole) return;
    if (continuing && current) {
      current.command += `\n${text}`;
      continuing = text.endsWith('\\');
    } else if (text.startsWith('$ ')) {
      current = { command: text.slice(2), expected: [], line: index + 1 };
      examples.push(current);
      continuing = text.endsWith('\\');
    } else if (current) {
      current.expected.push(text);
    }
  });
  return examples;
}

/** Rewrites the documented default ports to the ones a test server really got. */
export function substitutePorts(command: string, ports: Record<number, number>): string {
  let out = command;
  for (const [from, to] of Object.entries(ports)) {
    out = out.replace(new RegExp(`\\b${from}\\b`, 'g'), String(to));
  }
  return out;
}

function expectedPattern(expected: string[]): RegExp {
  const trimmed = [...expected];
  while (trimmed.length > 0 && trimmed.at(-1)!.trim() === '') trimmed.pop();
  const parts = trimmed.map((line) => {
    if (line.trim() === '...') return '(?:[^\\n]*\\n?)*?';
    const escaped = line.trimEnd().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return `${escaped.replaceAll('\\.\\.\\.', '.*?')}\\n?`;
  });
  return new RegExp(`^${parts.join('')}$`);
}

export interface ExampleResult {
  stdout: string;
  stderr: string;
  code: number;
  matches: boolean;
}

/** Runs one example with bash, as a person would, and checks its output against the README. */
export function runExample(
  example: Example,
  ports: Record<number, number>,
  timeoutMs = 10_000,
  cwd?: string,
): Promise<ExampleResult> {
  const command = substitutePorts(example.command, ports);
  return new Promise((resolve) => {
    execFile('bash', ['-c', command], { timeout: timeoutMs, cwd }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      const normalised = stdout.replace(/\r\n/g, '\n').replace(/\n+$/, '');
      resolve({
        stdout,
        stderr,
        code,
        matches: expectedPattern(example.expected).test(normalised),
      });
    });
  });
}
