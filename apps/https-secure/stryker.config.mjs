import base from '../../stryker.base.mjs';

export default {
  ...base,
  // The protocol modules. main.ts, worker.ts and worker-tls.ts run only in spawned processes (process and workers tests), which Stryker does not mutate.
  mutate: ['src/**/*.ts', '!src/main.ts', '!src/worker.ts', '!src/worker-tls.ts'],
  vitest: { configFile: 'vitest.mutation.config.ts' },
};
