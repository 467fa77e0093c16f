/**
 * Simulated agent fleets: heterogeneous like a real farm (2–16 slots, speed factors 1–4, one
 * agent in ten aarch64-linux, one in five offering the `big` feature), deterministic for a seed.
 */
import { FarmError } from '@farm/common';
import { agentFits, bucketKey } from '@farm/coordinator';
import type { SimAgent, SimDagSpec, SimJobSpec } from './sim-metrics.js';
import { makespanLowerBound } from './sim-metrics.js';
import { mulberry32 } from './dags.js';

const SPEEDS = [1, 1.5, 2, 3, 4] as const;

/**
 * `count` agents. Systems and features are fixed by index, so every prefix of two or more agents
 * can build every job of the DAG generators: agent i is aarch64-linux iff i % 10 = 1 (10 %);
 * it offers `big` iff i % 5 = 0 (x86_64) or i % 20 = 1 (half the aarch64 ones). maxJobs
 * (uniform 2–16) and the speed factor (one of 1, 1.5, 2, 3, 4) come from the seed.
 */
export function heterogeneousFleet(options: { readonly count: number; readonly seed: number }): SimAgent[] {
  if (!Number.isInteger(options.count) || options.count < 1) throw new FarmError('INVALID_ARGUMENT', `a fleet needs a whole number of agents ≥ 1, got ${options.count}`);
  const rnd = mulberry32(options.seed ^ 0x5eed);
  const agents: SimAgent[] = [];
  for (let i = 0; i < options.count; i++) {
    const aarch64 = i % 10 === 1;
    const big = i % 5 === 0 || i % 20 === 1;
    agents.push({
      id: `agent-${String(i).padStart(4, '0')}`,
      caps: {
        systems: [aarch64 ? 'aarch64-linux' : 'x86_64-linux'],
        supportedFeatures: big ? ['big'] : [],
        mandatoryFeatures: [],
        maxJobs: 2 + Math.floor(rnd() * 15),
        speedFactor: SPEEDS[Math.floor(rnd() * SPEEDS.length)]!,
      },
    });
  }
  return agents;
}

/**
 * How loaded a fleet is by a DAG: (work ÷ capacity) ÷ (critical path ÷ fastest speed), the ratio
 * of the two terms of the plain makespan bound. Above 1 the farm is overloaded (keeping every
 * slot busy decides the makespan), below 1 it has capacity to spare (starting the longest chain
 * early, on fast agents, decides it); around 1 both matter and the bound is loosest.
 */
export function loadOf(dag: SimDagSpec, agents: readonly SimAgent[]): number {
  const b = makespanLowerBound(dag, agents);
  return b.workOverCapacityMs / b.criticalPathMs;
}

/**
 * The smallest prefix of the seeded fleet (`heterogeneousFleet`) that can build every job and
 * whose load (see loadOf) is at most `load`. Whole agents only, so the load reached may be well
 * under the one asked for (a DAG with little work next to its critical path is below 1 with a
 * single agent): report loadOf(the result), not `load`.
 */
export function fleetForLoad(dag: SimDagSpec, seed: number, load: number, maxAgents = 4000): SimAgent[] {
  if (!(load > 0)) throw new FarmError('INVALID_ARGUMENT', `a fleet load must be > 0, got ${load}`);
  const all = heterogeneousFleet({ count: maxAgents, seed });
  const { speed1CriticalPathMs, totalWorkMs } = makespanLowerBound(dag, all);
  const buckets = new Map<string, SimJobSpec>();
  for (const job of dag.jobs) buckets.set(bucketKey(job), job);
  const unfitted = new Set(buckets.keys());
  let capacity = 0;
  let fastest = 0;
  for (let n = 1; n <= maxAgents; n++) {
    const caps = all[n - 1]!.caps;
    capacity += caps.maxJobs * caps.speedFactor;
    fastest = Math.max(fastest, caps.speedFactor);
    for (const key of [...unfitted]) if (agentFits(caps, buckets.get(key)!)) unfitted.delete(key);
    if (unfitted.size === 0 && totalWorkMs / capacity <= (load * speed1CriticalPathMs) / fastest) return all.slice(0, n);
  }
  return all;
}
