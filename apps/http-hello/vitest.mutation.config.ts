import { defineConfig } from 'vitest/config';

// For Stryker (pnpm test:mutation): only the in-process tests. The process,
// README and cluster tests spawn dist/main.js, which Stryker never mutates
// (and cluster-kill's SIGKILLs aborted Stryker's test runner).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/process.test.ts', 'test/readme.test.ts', 'test/cluster-*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
