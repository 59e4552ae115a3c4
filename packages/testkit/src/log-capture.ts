import { Writable } from 'node:stream';

export type LogLine = Record<string, unknown> & { msg?: string; level?: string | number };

/**
 * A pino destination that keeps every JSON line in memory, so a test can
 * assert on what the server logged (codes and fields, not wording).
 */
export class LogCapture extends Writable {
  readonly lines: LogLine[] = [];
  #partial = '';
  #waiters: Array<{ match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }> = [];

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error) => void): void {
    const text = this.#partial + chunk.toString('utf8');
    const parts = text.split('\n');
    this.#partial = parts.pop() ?? '';
    for (const part of parts) if (part.trim() !== '') this.push_(JSON.parse(part) as LogLine);
    done();
  }

  /** Adds one parsed line (also used by spawnApp for a child's stdout). */
  push_(line: LogLine): void {
    this.lines.push(line);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.match(line)) return true;
      w.resolve(line);
      return false;
    });
  }

  /** Resolves with the first line (already seen or yet to come) that matches. */
  waitFor(match: (line: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no matching log line within ${timeoutMs} ms; got:\n${this.dump()}`));
      }, timeoutMs);
      this.#waiters.push({
        match,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  }

  find(match: (line: LogLine) => boolean): LogLine[] {
    return this.lines.filter(match);
  }

  dump(): string {
    return this.lines.map((l) => JSON.stringify(l)).join('\n');
  }
}
