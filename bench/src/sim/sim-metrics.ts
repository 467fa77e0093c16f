/**
 * What the scheduling benchmarks report: latency summaries and the makespan lower bound a
 * schedule is measured against.
 */
import { FarmError } from '@farm/common';
import { agentFits, bucketKey, type AgentCapabilities } from '@farm/coordinator';
import type { SimDag, SimJob } from './dags.js';

/** What the simulator and the bound take: dags.ts's DAGs (a SimJob is a DrvNode with its true time). */
export type SimJobSpec = SimJob;
export type SimDagSpec = SimDag;

export interface SimAgent {
  readonly id: string;
  readonly caps: AgentCapabilities;
}

export interface Summary {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Nearest-rank percentiles (p99 of 100 samples is the 99th smallest, not an interpolation). */
export function summarize(samples: ArrayLike<number>): Summary {
  const s = Float64Array.from(samples).sort();
  const rank = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? Number.NaN;
  let sum = 0;
  for (const x of s) sum += x;
  return { count: s.length, p50: rank(50), p99: rank(99), max: s.length === 0 ? Number.NaN : s[s.length - 1]!, mean: s.length === 0 ? Number.NaN : sum / s.length };
}

/** Work an agent does per simulated ms: its slots times its speed. */
const capacityOf = (a: SimAgent): number => a.caps.maxJobs * a.caps.speedFactor;

export interface MakespanBound {
  /** The bound the ratio is taken against: max(simpleMs, routedMs). */
  readonly boundMs: number;
  /**
   * The plain bound: max(criticalPath / fastest speed, totalWork / Σ(maxJobs × speedFactor)),
   * critical path and total work in speed-1 ms, over all agents whatever they can build.
   */
  readonly simpleMs: number;
  readonly criticalPathMs: number;
  readonly workOverCapacityMs: number;
  /** The terms' numerators: the longest chain and the sum of all durations, in speed-1 ms. */
  readonly speed1CriticalPathMs: number;
  readonly totalWorkMs: number;
  /**
   * The routing-aware bound (never below the plain one's terms for the same job): the longest
   * chain where each job runs at the speed of the fastest agent that fits it, and, for every
   * routing bucket B with fitting agents F(B), the work of all jobs that only agents of F(B) can
   * build divided by F(B)'s capacity. Both are still lower bounds: a job runs only on agents
   * that fit it, no faster than the fastest of them, and F(B)'s agents cannot do more than
   * their capacity of work per ms.
   */
  readonly routedMs: number;
}

/**
 * The lower bound on any schedule's makespan for `dag` on `agents` (see MakespanBound).
 * O(jobs + buckets² × agents). Throws INVALID_ARGUMENT when a job's input is not an earlier job
 * or no agent fits a job (no schedule exists then).
 */
export function makespanLowerBound(dag: SimDagSpec, agents: readonly SimAgent[]): MakespanBound {
  if (agents.length === 0) throw new FarmError('INVALID_ARGUMENT', 'a makespan bound needs at least one agent');
  const fastest = Math.max(...agents.map((a) => a.caps.speedFactor));
  const capacity = agents.reduce((sum, a) => sum + capacityOf(a), 0);

  // Fitting agents, fastest fitting speed and capacity per routing bucket.
  const buckets = new Map<string, { fits: Set<number>; speed: number; capacity: number; work: number }>();
  for (const job of dag.jobs) {
    const key = bucketKey(job);
    let b = buckets.get(key);
    if (b === undefined) {
      const fits = new Set<number>();
      agents.forEach((a, i) => {
        if (agentFits(a.caps, job)) fits.add(i);
      });
      if (fits.size === 0) throw new FarmError('INVALID_ARGUMENT', `no agent fits ${job.drvPath} (${key})`);
      const fitting = [...fits].map((i) => agents[i]!);
      b = { fits, speed: Math.max(...fitting.map((a) => a.caps.speedFactor)), capacity: fitting.reduce((s, a) => s + capacityOf(a), 0), work: 0 };
      buckets.set(key, b);
    }
    b.work += job.durationMs;
  }

  // Longest chains, plain and routed, in one topological pass.
  const plainFinish = new Map<string, number>();
  const routedFinish = new Map<string, number>();
  let critical = 0;
  let routedCritical = 0;
  let work = 0;
  for (const job of dag.jobs) {
    let plainStart = 0;
    let routedStart = 0;
    for (const input of job.inputDrvs) {
      const p = plainFinish.get(input);
      const r = routedFinish.get(input);
      if (p === undefined || r === undefined) throw new FarmError('INVALID_ARGUMENT', `${job.drvPath} needs ${input}, which is not an earlier job of ${dag.name}`);
      plainStart = Math.max(plainStart, p);
      routedStart = Math.max(routedStart, r);
    }
    const p = plainStart + job.durationMs;
    const r = routedStart + job.durationMs / buckets.get(bucketKey(job))!.speed;
    plainFinish.set(job.drvPath, p);
    routedFinish.set(job.drvPath, r);
    critical = Math.max(critical, p);
    routedCritical = Math.max(routedCritical, r);
    work += job.durationMs;
  }

  let routedWork = 0;
  for (const b of buckets.values()) {
    let confined = 0;
    for (const other of buckets.values()) if ([...other.fits].every((i) => b.fits.has(i))) confined += other.work;
    routedWork = Math.max(routedWork, confined / b.capacity);
  }

  const criticalPathMs = critical / fastest;
  const workOverCapacityMs = work / capacity;
  const simpleMs = Math.max(criticalPathMs, workOverCapacityMs);
  const routedMs = Math.max(routedCritical, routedWork);
  return { boundMs: Math.max(simpleMs, routedMs), simpleMs, criticalPathMs, workOverCapacityMs, speed1CriticalPathMs: critical, totalWorkMs: work, routedMs };
}
