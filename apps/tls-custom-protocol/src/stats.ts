import { ErrorCode, type ErrorName, typeName } from './protocol.js';

/**
 * Frame and error counts of the whole server, kept as plain numbers on the
 * hot path (a pipelined ECHO is two frames) and turned into Prometheus
 * series only when /metrics is scraped (see metrics.ts).
 */
export class FrameStats {
  readonly #in = new Array<number>(256).fill(0);
  readonly #out = new Array<number>(256).fill(0);
  readonly #errors = new Map<ErrorName, number>();

  in(type: number): void {
    this.#in[type]!++;
  }

  out(type: number): void {
    this.#out[type]!++;
  }

  error(name: ErrorName): void {
    this.#errors.set(name, (this.#errors.get(name) ?? 0) + 1);
  }

  /** [direction, type name, count] for every type seen at least once. */
  frames(): Array<[direction: 'in' | 'out', type: string, count: number]> {
    const rows: Array<['in' | 'out', string, number]> = [];
    for (let type = 0; type < 256; type++) {
      if (this.#in[type]! > 0) rows.push(['in', typeName(type), this.#in[type]!]);
      if (this.#out[type]! > 0) rows.push(['out', typeName(type), this.#out[type]!]);
    }
    return rows;
  }

  errors(): Array<[name: ErrorName, count: number]> {
    return (Object.keys(ErrorCode) as ErrorName[])
      .filter((name) => this.#errors.has(name))
      .map((name) => [name, this.#errors.get(name)!]);
  }
}
