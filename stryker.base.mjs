// Shared Stryker settings for `pnpm test:mutation` (see README, Development).
// Each package's stryker.config.mjs spreads this and names its own vitest
// config, which leaves out the test files that spawn app processes: Stryker
// mutates the code the in-process tests import, and a spawned process runs
// dist/, which it never mutates.
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  // Each mutant runs only the tests that reached its code.
  coverageAnalysis: 'perTest',
  // Two cores, shared: one mutant at a time.
  concurrency: 1,
  // A static mutant (a module-level constant) would rerun every test.
  ignoreStatic: true,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'coverage/mutation/index.html' },
  jsonReporter: { fileName: 'coverage/mutation/report.json' },
  tempDirName: '.stryker-tmp',
  // `pnpm test:mutation --incremental` reuses this file: a rerun tests only
  // the mutants in changed code or reached by changed tests. It sits next
  // to the reports (gitignored): each developer's own, never a merge
  // conflict between branches.
  incrementalFile: 'coverage/mutation/incremental.json',
  timeoutMS: 10_000,
  thresholds: { high: 90, low: 85, break: null },
};
