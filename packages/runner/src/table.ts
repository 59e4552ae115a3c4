import type { RunnerApp } from './runner.js';

/** A plain-text table whose columns fit their widest cell. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function appsTable(apps: RunnerApp[]): string {
  return formatTable(
    ['app', 'protocol', 'address', 'admin', 'try it'],
    apps.map((a) => [
      a.name,
      a.protocol,
      `127.0.0.1:${a.port}`,
      `http://127.0.0.1:${a.adminPort}/readyz`,
      a.tryIt ?? a.example,
    ]),
  );
}
