import { autocannonMissing, autocannonVersion, runAutocannon } from './autocannon.mjs';
import { runWrk, wrkMissing, wrkVersion } from './wrk.mjs';

const generators = {
  wrk: {
    name: 'wrk',
    missing: wrkMissing,
    version: wrkVersion,
    run: (opts) => runWrk({ ...opts, threads: 1 }),
  },
  autocannon: {
    name: 'autocannon',
    missing: autocannonMissing,
    version: async () => autocannonVersion(),
    run: runAutocannon,
  },
};

export const HTTP_LOAD_CHOICES = ['auto', 'wrk', 'autocannon'];

/**
 * The HTTP load generator of a run: `auto` is wrk when it is installed (a C
 * client that needs little CPU of its own), else autocannon (a Node client
 * from npm, always there after `pnpm install`). Every subject of a run gets
 * the same one, so its ratios compare like with like. `pinning` (pin.mjs)
 * says which CPU it runs on.
 */
export function httpLoadGenerator(choice, pinning) {
  const generator =
    choice === 'auto' ? generators[wrkMissing() ? 'autocannon' : 'wrk'] : generators[choice];
  return {
    ...generator,
    version: async () => `${await generator.version()}, ${pinning.describe}`,
    run: (opts) => generator.run({ ...opts, wrap: pinning.wrap }),
  };
}
