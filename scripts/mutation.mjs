#!/usr/bin/env node
// `pnpm test:mutation [dir…]`: runs Stryker in each package or app that has
// a stryker.config.mjs (or only the ones named), one after the other, then
// prints each one's mutation score from its JSON report. Not part of
// `pnpm test` or CI: a full run takes tens of minutes on two cores.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const stryker = join(root, 'node_modules/.bin/stryker');
const named = process.argv.slice(2);
const dirs =
  named.length > 0
    ? named.map((d) => join(root, d))
    : ['packages', 'apps'].flatMap((top) =>
        readdirSync(join(root, top))
          .map((name) => join(root, top, name))
          .filter((dir) => existsSync(join(dir, 'stryker.config.mjs'))),
      );

const rows = [];
for (const dir of dirs) {
  const name = relative(root, dir);
  console.log(`\n== ${name}: stryker run`);
  const run = spawnSync(stryker, ['run'], { cwd: dir, stdio: 'inherit' });
  if (run.status !== 0) {
    rows.push([name, 'failed', '', '', '', '']);
    continue;
  }
  const report = JSON.parse(readFileSync(join(dir, 'coverage/mutation/report.json'), 'utf8'));
  const count = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0 };
  for (const file of Object.values(report.files)) {
    for (const m of file.mutants) if (m.status in count) count[m.status]++;
  }
  const detected = count.Killed + count.Timeout;
  const valid = detected + count.Survived + count.NoCoverage;
  const score = valid === 0 ? 'n/a' : `${((100 * detected) / valid).toFixed(2)}%`;
  rows.push([name, score, detected, count.Survived, count.NoCoverage, valid]);
}

console.log('\nmutation score (killed or timed out / all valid mutants):\n');
const header = ['package', 'score', 'detected', 'survived', 'no coverage', 'mutants'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
for (const row of [header, ...rows]) {
  console.log(row.map((c, i) => String(c).padEnd(widths[i])).join('  '));
}
if (rows.some((r) => r[1] === 'failed')) process.exit(1);
