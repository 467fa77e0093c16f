/**
 * The defaults of `farm up` that its help text shows. Apart from farm-up.ts so that registering
 * the `up` command (which happens on every `farm` run) does not load the coordinator and agent.
 */
import { availableParallelism } from 'node:os';

/** What /bin/sh (dash), bash and coreutils need on a Debian host (merged /usr): the examples' builders. */
export const HOST_SANDBOX_PATHS: readonly string[] = ['/bin', '/usr', '/lib', '/lib64?'];

export function defaultAgentCount(): number {
  return 2;
}

export function defaultMaxJobs(agents: number): number {
  return Math.max(1, Math.floor(availableParallelism() / Math.max(1, agents)));
}
