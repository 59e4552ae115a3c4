import base from '../../stryker.base.mjs';

export default {
  ...base,
  // The protocol modules. cluster.ts and worker.ts run only in spawned
  // processes (process.test.ts), which Stryker does not mutate.
  mutate: ['src/server.ts', 'src/config.ts', 'src/metrics.ts'],
  vitest: { configFile: 'vitest.mutation.config.ts' },
};
