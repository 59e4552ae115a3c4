import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { checksMarkdown, environmentLine } from './markdown.mjs';

const START = '<!-- bench:start -->';
const END = '<!-- bench:end -->';

/**
 * Replaces the text between the bench markers in the root README with the
 * checks table and a link to the chart. Returns a message for the terminal;
 * a README without the markers is left untouched.
 */
export function updateReadme(readmePath, results) {
  if (!existsSync(readmePath))
    return `--update-readme: ${readmePath} does not exist; nothing updated`;
  const text = readFileSync(readmePath, 'utf8');
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  if (start === -1 || end === -1 || end < start) {
    return `--update-readme: markers ${START} / ${END} not found in ${readmePath}; nothing updated`;
  }
  const block = [
    '',
    environmentLine(results),
    '',
    checksMarkdown(results),
    '',
    '![benchmark ratios against their targets](bench/results/ratios.svg)',
    '',
    'Details: [bench/results/latest.md](bench/results/latest.md) · how to run and read them: [bench/README.md](bench/README.md)',
    '',
  ].join('\n');
  writeFileSync(readmePath, text.slice(0, start + START.length) + block + text.slice(end));
  return `--update-readme: updated ${readmePath}`;
}
