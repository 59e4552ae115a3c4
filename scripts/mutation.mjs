#!/usr/bin/env node
// `pnpm test:mutation [dir…] [stryker flags…]`: runs Stryker in each package
// or app that has a stryker.config.mjs (or only the ones named), one after
// the other, then prints each one's mutation score and run time from its
// JSON report. Flags go to every `stryker run` as given, e.g.
//   pnpm test:mutation apps/udp-listener --incremental
//   pnpm test:mutation packages/tls --mutate src/reloader.ts
// (--incremental: only mutants in changed code, or reached by changed tests,
// run again; the rest keep their result from coverage/mutation/incremental.json.)
// Not part of `pnpm test` or CI: a full run takes hours on two cores.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const stryker = join(root, 'node_modules/.bin/stryker');
const args = process.argv.slice(2);
// A flag's value (`--mutate src/a.ts`) is not a directory.
const flags = [];
const named = [];
for (let i = 0; i < args.length; i++) {
  if (args[i].startsWith('-')) {
    flags.push(args[i]);
    if (
      !args[i].includes('=') &&
      args[i + 1] !== undefined &&
      !args[i + 1].startsWith('-') &&
      !existsSync(join(root, args[i + 1], 'stryker.config.mjs'))
    ) {
      flags.push(args[++i]);
    }
  } else named.push(args[i]);
}
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
  const started = Date.now();
  const run = spawnSync(stryker, ['run', ...flags], { cwd: dir, stdio: 'inherit' });
  const minutes = `${((Date.now() - started) / 60_000).toFixed(1)} min`;
  if (run.status !== 0) {
    rows.push([name, 'failed', '', '', '', '', minutes]);
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
  rows.push([name, score, detected, count.Survived, count.NoCoverage, valid, minutes]);
}

console.log('\nmutation score (killed or timed out / all valid mutants):\n');
const header = ['package', 'score', 'detected', 'survived', 'no coverage', 'mutants', 'time'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
for (const row of [header, ...rows]) {
  console.log(row.map((c, i) => String(c).padEnd(widths[i])).join('  '));
}
if (rows.some((r) => r[1] === 'failed')) process.exit(1);
