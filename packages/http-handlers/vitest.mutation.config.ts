import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// For Stryker (pnpm test:mutation). The handler's endpoints are tested
// through http-hello, whose in-process tests import @netlab/http-handlers:
// here that import is pointed at this package's (mutated) source instead of
// its dist/, so those tests count. Stryker runs in place for this package
// (stryker.config.mjs) because they live outside it.
const root = fileURLToPath(new URL('../../', import.meta.url));
export default defineConfig({
  root,
  resolve: {
    alias: { '@netlab/http-handlers': fileURLToPath(new URL('src/index.ts', import.meta.url)) },
  },
  test: {
    include: ['packages/http-handlers/test/**/*.test.ts', 'apps/http-hello/test/*.test.ts'],
    // These spawn dist/main.js, which never sees the mutated source.
    exclude: [
      'apps/http-hello/test/process.test.ts',
      'apps/http-hello/test/readme.test.ts',
      'apps/http-hello/test/cluster-*.test.ts',
    ],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
