import { defineConfig } from 'vitest/config';

// For Stryker (pnpm test:mutation): only the in-process tests. The ones left
// out run dist/ in a child process, which Stryker never mutates.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/process.test.ts', 'test/readme.test.ts', 'test/workers.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
