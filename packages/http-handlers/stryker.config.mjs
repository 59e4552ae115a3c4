import base from '../../stryker.base.mjs';

export default {
  ...base,
  mutate: ['src/**/*.ts', '!src/index.ts'],
  vitest: { configFile: 'vitest.mutation.config.ts' },
  // The config above reaches into apps/http-hello, which a sandbox copy of
  // this package would not have. Stryker restores every file when it ends;
  // do not commit while it runs.
  inPlace: true,
};
