import { defineConfig } from 'vitest/config';

// For Stryker (pnpm test:mutation): only the in-process tests. These run
// dist/ in a child process (or need root), which Stryker never mutates.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [
      'test/process.test.ts',
      'test/readme.test.ts',
      'test/one-batch.test.ts',
      'test/queue-limit.test.ts',
    ],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
