import { defineConfig } from 'vitest/config';

// One file, run in order: the stack comes up once (images built in
// beforeAll), every test talks to it, the last one takes it down.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 900_000,
    fileParallelism: false,
  },
});
