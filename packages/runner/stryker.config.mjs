import base from '../../stryker.base.mjs';

export default {
  ...base,
  // Only cli.ts is an entry; the runner's test spawns it, so its score says how much of this logic in-process tests reach.
  mutate: ['src/**/*.ts', '!src/cli.ts'],
  vitest: { configFile: 'vitest.mutation.config.ts' },
};
