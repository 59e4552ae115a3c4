import base from '../../stryker.base.mjs';

export default {
  ...base,
  // The protocol modules; main.ts and cli.ts are entries, bench-client.ts runs only from cli.ts.
  mutate: ['src/**/*.ts', '!src/main.ts', '!src/cli.ts', '!src/bench-client.ts'],
  vitest: { configFile: 'vitest.mutation.config.ts' },
};
