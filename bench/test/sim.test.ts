/**
 * The scheduling simulator on small DAGs: known makespans (a chain, independent jobs on k
 * slots), the invariants the real core must keep under it (never more than maxJobs builds on an
 * agent, jobs only on agents that fit them, inputs finished before a dependent starts, every job
 * built exactly once), determinism, and a --quick run of the benchmark. No timing assertions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { agentFits, type AgentCapabilities } from '@farm/coordinator';
import { FarmError } from '@farm/common';
import { simulate, type SimulationResult } from '../src/sim/simulator.js';
import { fleetForLoad, heterogeneousFleet, loadOf } from '../src/sim/fleet.js';
import { mulberry32 } from '../src/sim/dags.js';
import { makespanLowerBound, summarize, type SimAgent, type SimDagSpec, type SimJobSpec } from '../src/sim/sim-metrics.js';

const NIX32 = '0123456789abcdfghijklmnpqrsvwxyz';
const drv = (i: number, name: string) => `/nix/store/${Array.from({ length: 32 }, (_, k) => NIX32[(i * 7 + k * 13 + (i >> k % 8)) % 32]).join('')}-${name}-${i}.drv`;

function job(i: number, durationMs: number, inputs: readonly string[] = [], system = 'x86_64-linux', requiredFeatures: readonly string[] = []): SimJobSpec {
  return { drvPath: drv(i, `pkg${i % 7}`), system, requiredFeatures, inputDrvs: inputs, durationMs };
}

const caps = (maxJobs: number, speedFactor = 1, systems = ['x86_64-linux'], supportedFeatures: string[] = []): AgentCapabilities => ({
  systems,
  supportedFeatures,
  mandatoryFeatures: [],
  maxJobs,
  speedFactor,
});

/** A small random DAG: each job depends on up to 3 earlier ones; some aarch64, some `big`. */
function randomDag(seed: number, n: number, mixed: boolean): SimDagSpec {
  const rnd = mulberry32(seed);
  const jobs: SimJobSpec[] = [];
  for (let i = 0; i < n; i++) {
    const inputs = new Set<string>();
    for (let k = Math.floor(rnd() * 4); k > 0 && i > 0; k--) inputs.add(jobs[Math.floor(rnd() * i)]!.drvPath);
    const system = mixed && rnd() < 0.2 ? 'aarch64-linux' : 'x86_64-linux';
    const features = mixed && rnd() < 0.1 ? ['big'] : [];
    jobs.push(job(i, 1000 + Math.floor(rnd() * 60_000), [...inputs], system, features));
  }
  return { name: `random-${seed}`, jobs, roots: jobs.map((j) => j.drvPath) };
}

function checkSchedule(dag: SimDagSpec, agents: readonly SimAgent[], r: SimulationResult): void {
  // Every job built exactly once.
  const byDrv = new Map(r.schedule.map((b) => [b.drvPath, b]));
  assert.equal(r.schedule.length, dag.jobs.length);
  assert.equal(byDrv.size, dag.jobs.length, 'no job built twice');
  const agentById = new Map(agents.map((a) => [a.id, a]));
  for (const j of dag.jobs) {
    const b = byDrv.get(j.drvPath);
    assert.ok(b !== undefined, `${j.drvPath} was built`);
    const agent = agentById.get(b.agentId)!;
    // Routing: only on agents that fit it (aarch64 jobs on aarch64 agents, `big` on agents offering it).
    assert.ok(agentFits(agent.caps, j), `${j.drvPath} (${j.system} ${j.requiredFeatures.join(',')}) ran on ${b.agentId} (${agent.caps.systems.join(',')})`);
    assert.ok(agent.caps.systems.includes(j.system));
    // Precedence: every input finished before it started; duration follows the agent's speed.
    for (const input of j.inputDrvs) assert.ok(byDrv.get(input)!.finishMs <= b.startMs, `${input} finished before ${j.drvPath} started`);
    assert.ok(Math.abs(b.finishMs - b.startMs - j.durationMs / agent.caps.speedFactor) < 1e-6);
  }
  // Never more than maxJobs at once on an agent (a finish at t frees its slot for a start at t).
  for (const a of agents) {
    const points = r.schedule.filter((b) => b.agentId === a.id).flatMap((b) => [[b.startMs, 1] as const, [b.finishMs, -1] as const]);
    points.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    let running = 0;
    for (const [, d] of points) {
      running += d;
      assert.ok(running <= a.caps.maxJobs, `${a.id} ran ${running} builds with maxJobs ${a.caps.maxJobs}`);
    }
  }
  assert.equal(r.makespanMs, Math.max(...r.schedule.map((b) => b.finishMs)));
  assert.ok(r.makespanMs >= makespanLowerBound(dag, agents).boundMs - 1e-6, 'no schedule beats the lower bound');
  assert.equal(r.dispatch.count, dag.jobs.length);
  assert.ok(r.held.simulatedWaitMs.count <= dag.jobs.length);
}

test('a chain takes the sum of its durations', () => {
  const durations = [3000, 1000, 4000, 1000, 5000];
  const jobs: SimJobSpec[] = [];
  durations.forEach((d, i) => jobs.push(job(i, d, i > 0 ? [jobs[i - 1]!.drvPath] : [])));
  const dag: SimDagSpec = { name: 'chain', jobs, roots: [jobs[jobs.length - 1]!.drvPath] };
  const agents = [{ id: 'a', caps: caps(4) }, { id: 'b', caps: caps(2) }];
  const r = simulate(dag, agents);
  assert.equal(r.makespanMs, 14_000);
  assert.equal(makespanLowerBound(dag, agents).boundMs, 14_000);
  checkSchedule(dag, agents, r);
});

test('independent jobs on k slots take ceil(n / k) rounds, and a faster agent divides its durations', () => {
  const jobs = Array.from({ length: 10 }, (_, i) => job(i, 1000));
  const dag: SimDagSpec = { name: 'flat', jobs, roots: jobs.map((j) => j.drvPath) };
  const three = [{ id: 'a', caps: caps(2) }, { id: 'b', caps: caps(1) }];
  const r = simulate(dag, three);
  assert.equal(r.makespanMs, Math.ceil(10 / 3) * 1000);
  checkSchedule(dag, three, r);
  const fast = [{ id: 'f', caps: caps(5, 2) }];
  const rf = simulate(dag, fast);
  assert.equal(rf.makespanMs, Math.ceil(10 / 5) * 500);
  checkSchedule(dag, fast, rf);
});

test('on random mixed-system DAGs every job runs once, on an agent that fits, within maxJobs', () => {
  for (const seed of [1, 2, 3]) {
    const dag = randomDag(seed, 400, true);
    const agents = heterogeneousFleet({ count: 12, seed });
    const r = simulate(dag, agents);
    checkSchedule(dag, agents, r);
    assert.ok(r.schedule.some((b) => b.drvPath.length > 0 && dag.jobs.find((j) => j.drvPath === b.drvPath)!.system === 'aarch64-linux'));
    for (const policy of ['critical-path', 'hydra'] as const) checkSchedule(dag, agents, simulate(dag, agents, { policy }));
  }
});

test('a run can stop after some builds, with the rest still queued', () => {
  const jobs = Array.from({ length: 10 }, (_, i) => job(i, 1000));
  const dag: SimDagSpec = { name: 'flat', jobs, roots: jobs.map((j) => j.drvPath) };
  const r = simulate(dag, [{ id: 'a', caps: caps(2) }], { stopAfterCompletions: 4 });
  assert.equal(r.completed, 4);
  assert.equal(r.makespanMs, 2000);
  // Two more were assigned when the fourth finished; four are still queued.
  assert.equal(r.schedule.length, 6);
  assert.equal(r.queuedAtEnd, 4);
});

test('a run is deterministic for a seed', () => {
  const run = (seed: number) => {
    const dag = randomDag(seed, 300, true);
    const agents = fleetForLoad(dag, seed, 1);
    assert.ok(loadOf(dag, agents) <= 1);
    return simulate(dag, agents);
  };
  const a = run(7);
  const b = run(7);
  assert.deepEqual(a.schedule, b.schedule);
  assert.equal(a.makespanMs, b.makespanMs);
  assert.notDeepEqual(run(8).schedule, a.schedule);
});

test('jobs that no agent can build are reported, not a silent hang', () => {
  const jobs = [job(0, 1000), job(1, 1000, [], 'riscv64-linux')];
  const dag: SimDagSpec = { name: 'unroutable', jobs, roots: jobs.map((j) => j.drvPath) };
  assert.throws(
    () => simulate(dag, [{ id: 'a', caps: caps(1) }]),
    (e: unknown) => e instanceof FarmError && e.code === 'FAILED_PRECONDITION' && /1 of 2 jobs never ran/.test(e.message) && e.message.includes('riscv64-linux'),
  );
});

test('the lower bound takes routing into account and summaries use nearest ranks', () => {
  // Four aarch64 jobs of 1 s, one aarch64 slot, nine x86 slots: the plain bound says 1 s (the
  // longest chain; work / capacity is 0.4 s), but only one slot can build them.
  const jobs = Array.from({ length: 4 }, (_, i) => job(i, 1000, [], 'aarch64-linux'));
  const dag: SimDagSpec = { name: 'arm', jobs, roots: jobs.map((j) => j.drvPath) };
  const agents = [{ id: 'x', caps: caps(9) }, { id: 'arm', caps: caps(1, 1, ['aarch64-linux']) }];
  const b = makespanLowerBound(dag, agents);
  assert.equal(b.simpleMs, 1000);
  assert.equal(b.workOverCapacityMs, 400);
  assert.equal(b.boundMs, 4000);
  assert.equal(simulate(dag, agents).makespanMs, 4000);
  const s = summarize(Array.from({ length: 100 }, (_, i) => 100 - i));
  assert.deepEqual([s.p50, s.p99, s.max, s.count], [50, 99, 100, 100]);
});

test('the benchmark runs end to end with --quick and reports both benchmarks as JSON', { timeout: 120_000 }, () => {
  const script = fileURLToPath(new URL('../src/sched-bench.js', import.meta.url));
  const r = spawnSync(process.execPath, [script, '--quick', '--json'], { encoding: 'utf8', timeout: 110_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    latency: { jobs: number; agents: number; dispatch: { p50: number; p99: number }; bytesPerJob: number };
    makespan: { dag: string; policy: string; ratio: number | null; skipped?: string }[];
  };
  assert.ok(out.latency.jobs > 0 && out.latency.agents > 0);
  assert.ok(Number.isFinite(out.latency.dispatch.p50) && Number.isFinite(out.latency.dispatch.p99));
  assert.ok(Number.isFinite(out.latency.bytesPerJob) && out.latency.bytesPerJob > 0);
  const ran = out.makespan.filter((m) => m.skipped === undefined);
  for (const name of ['layered', 'forkjoin', 'mixed']) {
    for (const policy of ['critical-path (learned)', 'critical-path (cold)', 'hydra']) {
      const row = ran.find((m) => m.dag.startsWith(name) && m.policy === policy);
      assert.ok(row !== undefined && row.ratio !== null && row.ratio >= 1 - 1e-9, `${name} under ${policy} ran with a ratio ≥ 1`);
    }
  }
  assert.ok(out.makespan.some((m) => m.dag.startsWith('debian')), 'the Debian DAG is run or reported as skipped, never left out silently');
});
