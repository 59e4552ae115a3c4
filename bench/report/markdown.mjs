import { formatValue, metricInfo } from './format.mjs';
import { checkHeader, checkNotes, checkRows } from './table.mjs';

const detailMetrics = [
  'mbps',
  'reqPerSec',
  'latencyP50Ms',
  'latencyP99Ms',
  'peakRssMB',
  'rssGrowthMB',
  'writtenMB',
  'errors',
];

const cell = (text) => String(text).replaceAll('|', '\\|').replaceAll('\n', ' ');
const mdTable = (header, rows) =>
  [header, header.map(() => '---'), ...rows]
    .map((r) => `| ${r.map(cell).join(' | ')} |`)
    .join('\n');

/** The checks table (what --update-readme copies into the root README). */
export function checksMarkdown(results) {
  const notes = checkNotes(results).map((n) => `- ${n}`);
  return [mdTable(checkHeader, checkRows(results)), ...(notes.length ? ['', ...notes] : [])].join(
    '\n',
  );
}

/** A line naming when and where the figures were measured. */
export function environmentLine(results) {
  const env = results.environment;
  return (
    `${env.date} · ${env.cores} cores (${env.cpu}) · Node ${env.node} · ` +
    `load generators: ${env.loadGenerators.join('; ')} · mode: ${results.mode}`
  );
}

/** latest.md: environment, checks, chart, then each scenario's medians per subject. */
export function resultsMarkdown(results) {
  const parts = [
    '# netlab benchmark results',
    '',
    environmentLine(results),
    '',
    'Ratios are app / baseline, medians of alternating rounds in the same run. ' +
      'See [bench/README.md](../README.md) for how to read them.',
    '',
    checksMarkdown(results),
    '',
    '![ratios against their targets](ratios.svg)',
  ];
  for (const s of results.scenarios) {
    parts.push('', `## ${s.title}`, '');
    if (s.measures) parts.push(s.measures, '');
    parts.push(
      `Measured ${s.date}, ${s.rounds} round(s) per subject, status: ${s.status}${s.reason ? ` (${s.reason})` : ''}.`,
    );
    if (!s.subjects?.length) continue;
    const used = detailMetrics.filter((m) => s.subjects.some((x) => x.median?.[m] !== undefined));
    const rows = s.subjects.map((x) => [
      x.label,
      ...used.map((m) => (x.status === 'ok' ? formatValue(m, x.median[m]) : '–')),
      x.status === 'ok' ? 'ok' : `${x.status}: ${(x.reason ?? '').split('\n')[0]}`,
    ]);
    parts.push(
      '',
      mdTable(
        ['subject (median of rounds)', ...used.map((m) => metricInfo[m].label), 'status'],
        rows,
      ),
    );
  }
  return `${parts.join('\n')}\n`;
}
