import base from '../../stryker.base.mjs';

export default {
  ...base,
  mutate: ['src/**/*.ts', '!src/index.ts'],
  vitest: { configFile: 'vitest.config.ts' },
};
