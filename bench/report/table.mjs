/** Pads rows of cells into aligned columns with a header rule. */
export function textTable(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    cells
      .map((c, i) => String(c).padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export const checkHeader = ['scenario', 'check', 'app', 'baseline', 'ratio', 'target', 'result'];

/** One row per check; a skipped or failed check says why in its result cell. */
export function checkRows(results) {
  return results.scenarios.flatMap((s) => {
    if (s.status === 'skipped')
      return [[s.id, '(whole scenario)', '–', '–', '–', '–', `skipped: ${s.reason}`]];
    return s.checks.map((c) => [
      s.id,
      c.label,
      c.appFigure,
      c.baselineFigure,
      c.ratioFigure,
      c.target,
      c.reason ? `${c.status}: ${c.reason.split('\n')[0]}` : c.status,
    ]);
  });
}

/** Notes attached to checks (e.g. the load generator sharing the cores). */
export function checkNotes(results) {
  return results.scenarios.flatMap((s) =>
    (s.checks ?? []).filter((c) => c.note).map((c) => `${s.id} / ${c.label}: ${c.note}`),
  );
}

/** The whole terminal report. */
export function terminalReport(results) {
  const notes = checkNotes(results).map((n) => `note: ${n}`);
  const env = results.environment;
  return [
    `netlab bench (${results.mode}) — ${env.date}, ${env.cores} cores, Node ${env.node}, ` +
      `load: ${env.loadGenerators.join('; ')}`,
    ...(results.mode === 'smoke'
      ? ['smoke mode: this checks that each scenario runs; its figures and verdicts mean nothing']
      : []),
    '',
    textTable(checkHeader, checkRows(results)),
    ...(notes.length ? ['', ...notes] : []),
  ].join('\n');
}
