import base from '../../stryker.base.mjs';

export default {
  ...base,
  // Everything but the entry (cli.ts) and the re-exports (index.ts).
  mutate: ['src/**/*.ts', '!src/cli.ts', '!src/index.ts'],
  vitest: { configFile: 'vitest.mutation.config.ts' },
};
