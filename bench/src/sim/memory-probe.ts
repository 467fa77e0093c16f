/**
 * The scheduling core's memory per queued job, measured in a child process started with
 * --expose-gc (a clean heap, and explicit collections, so the difference is the core's alone):
 * heapUsed after a full GC with the Scheduler built, then again after `submit` of the DAG with
 * no agents (every job queued: ready or waiting) and after dropping every reference of our own
 * to the DAG, the graph and the submit outcome. What is left is what the core keeps: its job
 * records, queues, indexes, and the DrvNode objects and drv path strings it was handed (as the
 * coordinator would hand them). Divided by the number of jobs.
 *
 *   node --expose-gc bench/dist/src/sim/memory-probe.js <jobs> <seed>   → one line of JSON
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FarmError, ManualClock, sequentialIds } from '@farm/common';
import { Scheduler, type DrvNode } from '@farm/coordinator';
import { mixedSystemsDag, type SimDag } from './dags.js';

export interface MemoryReport {
  readonly jobs: number;
  readonly heapBeforeBytes: number;
  readonly heapAfterBytes: number;
  readonly bytesPerJob: number;
  /** The DAG measured (the latency run's generator and seed). */
  readonly dag: string;
}

/** Runs the probe in a child Node with --expose-gc and returns its report. */
export function measureMemoryPerJob(options: { readonly jobs: number; readonly seed: number }): MemoryReport {
  const script = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ['--expose-gc', script, String(options.jobs), String(options.seed)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.error !== undefined || r.status !== 0) throw new FarmError('INTERNAL', `the memory probe failed (${String(r.status)}): ${String(r.error ?? r.stderr).slice(-2000)}`);
  return JSON.parse(r.stdout) as MemoryReport;
}

function heapAfterGc(gc: () => void): number {
  // Twice: the first collection can leave garbage that only a second one frees (weak refs, finalizers).
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

function probe(jobs: number, seed: number): MemoryReport {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new FarmError('FAILED_PRECONDITION', 'the memory probe needs node --expose-gc');
  const scheduler = new Scheduler(new ManualClock(0), sequentialIds(), { leaseMs: 15_000, maxAttempts: 3 });
  const before = heapAfterGc(gc);
  let dag: SimDag | undefined = mixedSystemsDag({ seed, jobs });
  const name = dag.name;
  let graph: Map<string, DrvNode> | undefined = new Map(
    dag.jobs.map((j) => [j.drvPath, { drvPath: j.drvPath, system: j.system, requiredFeatures: j.requiredFeatures, inputDrvs: j.inputDrvs }]),
  );
  let outcome: ReturnType<Scheduler['submit']> | undefined = scheduler.submit({ roots: dag.roots }, graph, () => false);
  const queued = outcome.jobs;
  dag = undefined;
  graph = undefined;
  outcome = undefined;
  const after = heapAfterGc(gc);
  // Keep the scheduler alive past the measurement.
  if (scheduler.jobStatus('none') !== undefined) throw new FarmError('INTERNAL', 'unexpected job');
  return { jobs: queued, heapBeforeBytes: before, heapAfterBytes: after, bytesPerJob: (after - before) / queued, dag: name };
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const jobs = Number(process.argv[2]);
  const seed = Number(process.argv[3] ?? 1);
  if (!Number.isInteger(jobs) || jobs < 1 || !Number.isInteger(seed)) throw new FarmError('INVALID_ARGUMENT', 'usage: memory-probe <jobs> <seed>');
  process.stdout.write(`${JSON.stringify(probe(jobs, seed))}\n`);
}
