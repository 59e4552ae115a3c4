import os from 'node:os';
import { which } from './which.mjs';

/**
 * Where the load generator runs: CPU 0, when the machine has more than one
 * core and taskset (util-linux) is installed; the server under test stays
 * free to use every core. Left to the scheduler, client and server trade
 * cores back and forth and a server's figure depends on where each landed:
 * on 2 cores http-hello's LOG_LEVEL=warn/bare ratio ranged 0.90x-0.96x over
 * five unpinned runs of the same code.
 */
export function loadPinning(enabled) {
  const taskset = which('taskset');
  if (!enabled) return { describe: 'not pinned (--unpinned)', wrap: (cmd, args) => [cmd, args] };
  if (!taskset || os.availableParallelism() < 2) {
    return { describe: 'not pinned (needs taskset and 2 cores)', wrap: (cmd, args) => [cmd, args] };
  }
  return {
    describe: 'pinned to CPU 0 (taskset)',
    wrap: (cmd, args) => [taskset, ['-c', '0', cmd, ...args]],
  };
}
