import base from '../../stryker.base.mjs';

export default {
  ...base,
  // The protocol modules; main.ts only wires them to the process.
  mutate: ['src/server.ts', 'src/config.ts', 'src/metrics.ts'],
  vitest: { configFile: 'vitest.mutation.config.ts' },
};
