// Core pinning for the HTTP benchmarks: the server on one core, the load generator on the other.
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

/** True when `taskset` works and there are at least two cores to split. */
export const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
    return cpus().length >= 2;
  } catch {
    return false;
  }
})();

/** `[command, args]` that run `cmd args` on `core` when pinning is available, unpinned otherwise. */
export const pin = (core, cmd, args) => (hasTaskset ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args]);
