import base from '../../stryker.base.mjs';

export default {
  ...base,
  // The protocol modules; main.ts only wires them to the process.
  mutate: ['src/**/*.ts', '!src/main.ts'],
  vitest: { configFile: 'vitest.mutation.config.ts' },
};
