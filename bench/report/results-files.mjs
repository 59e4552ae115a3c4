import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resultsMarkdown } from './markdown.mjs';
import { ratiosSvg } from './svg.mjs';

/**
 * Writes latest.json, latest.md and ratios.svg into `dir`. A run of one app
 * replaces that app's scenarios and keeps the others from the previous
 * latest.json (each scenario carries the date it was measured), so
 * `pnpm bench tcp-echo` then `pnpm bench http-hello` leaves both.
 */
export function writeResults(dir, results) {
  mkdirSync(dir, { recursive: true });
  const jsonPath = join(dir, 'latest.json');
  const merged = { ...results, scenarios: [...results.scenarios] };
  if (existsSync(jsonPath)) {
    try {
      const previous = JSON.parse(readFileSync(jsonPath, 'utf8'));
      const fresh = new Set(results.scenarios.map((s) => s.id));
      const kept = (previous.scenarios ?? []).filter((s) => !fresh.has(s.id));
      merged.scenarios = [...kept, ...results.scenarios].sort(
        (a, b) => order(a, results) - order(b, results),
      );
    } catch {
      // an unreadable previous file is simply replaced
    }
  }
  writeFileSync(jsonPath, `${JSON.stringify(merged, null, 2)}\n`);
  writeFileSync(join(dir, 'latest.md'), resultsMarkdown(merged));
  writeFileSync(join(dir, 'ratios.svg'), ratiosSvg(merged));
  return merged;
}

function order(scenario, results) {
  const i = results.scenarioOrder.indexOf(scenario.id);
  return i === -1 ? Number.MAX_SAFE_INTEGER : i;
}
