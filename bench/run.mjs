#!/usr/bin/env node
// netlab benchmark harness: `pnpm bench [app…] [--smoke] [--rounds N] [--update-readme] [--strict]`.
// Each scenario runs its app and baselines alternately and reports medians and
// app/baseline ratios measured in the same run. See bench/README.md.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { evaluateChecks } from './harness/checks.mjs';
import { HTTP_LOAD_CHOICES, httpLoadGenerator } from './harness/http-load.mjs';
import { loadPinning } from './harness/pin.mjs';
import { runAlternating } from './harness/rounds.mjs';
import { describeMetrics } from './report/format.mjs';
import { updateReadme } from './report/readme-update.mjs';
import { writeResults } from './report/results-files.mjs';
import { terminalReport } from './report/table.mjs';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = dirname(benchDir);

const usage = `usage: pnpm bench [app…] [options]

  app…              only the scenarios of these apps (default: all)
  --smoke           each scenario for a second or two, 1 round; results in bench/results/tmp/
  --rounds N        alternating rounds per scenario (default 3, at least 3 outside smoke)
  --update-readme   copy the results table between <!-- bench:start --> and <!-- bench:end -->
                    in README.md (not in smoke mode)
  --strict          exit 1 when a check falls short (default: only crashes fail)
  --http-load G     HTTP load generator: auto (wrk if installed, else autocannon), wrk, autocannon
  --unpinned        leave the HTTP and UDP load generators to the scheduler (default: CPU 0, by taskset)
  --list            list the scenarios and exit`;

let args;
try {
  args = parseArgs({
    // `pnpm bench -- --smoke` passes the `--` through: ignore it.
    args: process.argv.slice(2).filter((a) => a !== '--'),
    allowPositionals: true,
    options: {
      smoke: { type: 'boolean', default: false },
      rounds: { type: 'string', default: '3' },
      'update-readme': { type: 'boolean', default: false },
      strict: { type: 'boolean', default: false },
      'http-load': { type: 'string', default: 'auto' },
      unpinned: { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
} catch (error) {
  console.error(`${error.message}\n\n${usage}`);
  process.exit(2);
}
const { values, positionals } = args;
if (values.help) {
  console.log(usage);
  process.exit(0);
}
if (!HTTP_LOAD_CHOICES.includes(values['http-load'])) {
  console.error(
    `--http-load: expected one of ${HTTP_LOAD_CHOICES.join(', ')}, got "${values['http-load']}"`,
  );
  process.exit(2);
}
const pinning = loadPinning(!values.unpinned);
const httpLoad = httpLoadGenerator(values['http-load'], pinning);
const rounds = values.smoke ? 1 : Number(values.rounds);
if (!values.smoke && (!Number.isInteger(rounds) || rounds < 3)) {
  console.error(`--rounds: expected an integer ≥ 3, got "${values.rounds}"`);
  process.exit(2);
}

// Each file in scenarios/ exports `scenarios`, a list; an app's issue adds its own file.
const all = [];
for (const file of readdirSync(join(benchDir, 'scenarios')).sort()) {
  if (!file.endsWith('.mjs')) continue;
  const mod = await import(pathToFileURL(join(benchDir, 'scenarios', file)).href);
  all.push(...mod.scenarios);
}
if (values.list) {
  for (const s of all) console.log(`${s.app.padEnd(14)} ${s.id.padEnd(24)} ${s.title}`);
  process.exit(0);
}
const unknown = positionals.filter((p) => !all.some((s) => s.app === p || s.id === p));
if (unknown.length) {
  console.error(`unknown app or scenario: ${unknown.join(', ')}`);
  console.error(`known: ${[...new Set(all.flatMap((s) => [s.app, s.id]))].join(', ')}`);
  process.exit(2);
}
const selected = positionals.length
  ? all.filter((s) => positionals.includes(s.app) || positionals.includes(s.id))
  : all;

const tmpDir = mkdtempSync(join(os.tmpdir(), 'netlab-bench-'));

// Ctrl-C: exit through process.exit so server-process.mjs kills what we started.
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
]) {
  process.on(signal, () => {
    rmSync(tmpDir, { recursive: true, force: true });
    process.exit(code);
  });
}
const ctx = {
  root,
  benchDir,
  tmpDir,
  smoke: values.smoke,
  rounds,
  log: (line) => console.log(line),
  describe: describeMetrics,
  httpLoad,
  // For load generators a scenario runs itself (h2load): the same CPU as httpLoad's.
  pinning,
};

const started = performance.now();
const environment = {
  date: new Date().toISOString(),
  cores: os.availableParallelism(),
  cpu: os.cpus()[0]?.model ?? 'unknown',
  memoryMB: Math.round(os.totalmem() / 1e6),
  kernel: `${os.type()} ${os.release()}`,
  node: process.version,
  loadGenerators: [
    httpLoad.missing()
      ? `HTTP: ${httpLoad.name} not installed`
      : `HTTP: ${await httpLoad.version()}`,
    'TCP and UDP: Node clients in their own process (bench/clients/)',
  ],
};
console.log(
  `netlab bench: ${selected.length} scenario(s), ${values.smoke ? 'smoke mode' : `${rounds} rounds`}, ` +
    `${environment.cores} cores, Node ${environment.node}`,
);

const scenarioResults = [];
for (const scenario of selected) {
  console.log(`\n${scenario.id}: ${scenario.title}`);
  scenarioResults.push(await runScenario(scenario));
}

const results = writeResults(join(benchDir, 'results', values.smoke ? 'tmp' : ''), {
  mode: values.smoke ? 'smoke' : 'full',
  environment,
  scenarioOrder: all.map((s) => s.id),
  scenarios: scenarioResults,
});
// The terminal shows this run only; the files also keep other apps' last results.
console.log(`\n${terminalReport({ ...results, scenarios: scenarioResults })}`);
const outDir = values.smoke ? 'bench/results/tmp' : 'bench/results';
console.log(`\nwrote ${outDir}/latest.json, latest.md, ratios.svg`);
if (values['update-readme']) {
  console.log(
    values.smoke
      ? '--update-readme: ignored in smoke mode (smoke figures are not results)'
      : updateReadme(join(root, 'README.md'), results),
  );
}

const crashed = scenarioResults.filter((s) => s.status === 'error');
const short = scenarioResults
  .flatMap((s) => s.checks ?? [])
  .filter((c) => c.status === 'falls short');
console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
if (crashed.length) {
  console.error(`\n${crashed.length} scenario(s) crashed: ${crashed.map((s) => s.id).join(', ')}`);
  console.error(`server stderr files kept in ${tmpDir}`);
  process.exit(1);
}
rmSync(tmpDir, { recursive: true, force: true });
if (short.length && values.strict && !values.smoke) {
  console.error(`\n${short.length} check(s) fall short (--strict)`);
  process.exit(1);
}

async function runScenario(scenario) {
  const base = {
    id: scenario.id,
    app: scenario.app,
    title: scenario.title,
    measures: scenario.measures,
    date: environment.date,
    mode: values.smoke ? 'smoke' : 'full',
    rounds,
    node: environment.node,
    cores: environment.cores,
  };
  const t0 = performance.now();
  try {
    const reason = (await scenario.skip?.(ctx)) ?? null;
    if (reason) {
      console.log(`  skipped: ${reason}`);
      return { ...base, status: 'skipped', reason, subjects: [], checks: [] };
    }
    const runnable = [];
    const skipped = [];
    for (const subject of scenario.subjects) {
      const why = (await subject.skip?.(ctx)) ?? null;
      if (why) {
        console.log(`  ${subject.id} skipped: ${why}`);
        skipped.push({
          id: subject.id,
          label: subject.label,
          status: 'skipped',
          reason: why,
          rounds: [],
          median: {},
        });
      } else {
        runnable.push(subject);
      }
    }
    const measured = await runAlternating(ctx, scenario, runnable, rounds);
    const subjects = scenario.subjects.map((s) =>
      [...measured, ...skipped].find((x) => x.id === s.id),
    );
    const checks = evaluateChecks(scenario, subjects);
    const status = subjects.some((s) => s.status === 'error') ? 'error' : 'ok';
    console.log(`  done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return { ...base, status, subjects, checks };
  } catch (error) {
    console.log(`  ERROR ${error.message}`);
    return { ...base, status: 'error', reason: error.message, subjects: [], checks: [] };
  }
}
