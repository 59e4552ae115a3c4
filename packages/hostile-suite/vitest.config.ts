import { defineConfig } from 'vitest/config';

// One file per server, run in parallel (two at a time on two cores); the
// cases in a file share one process, in order.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
  },
});
