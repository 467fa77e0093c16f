/**
 * The scheduling policy of issue 4 on the pure core with a fake clock: critical-path order,
 * learned durations, fair share, retries on a different agent with backoff, poison, draining.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, sequentialIds } from '@farm/common';
import { backoffMs, Scheduler, type AgentCapabilities, type DrvNode, type DurationEstimator, type JobEvent, type SchedulerEvent, type SchedulerOptions } from '../src/index.js';

const x86: AgentCapabilities = { systems: ['x86_64-linux'], supportedFeatures: [], mandatoryFeatures: [], maxJobs: 1, speedFactor: 1 };

const node = (drvPath: string, inputDrvs: string[] = []): DrvNode => ({ drvPath, system: 'x86_64-linux', requiredFeatures: [], inputDrvs });
const graphOf = (...nodes: DrvNode[]) => new Map(nodes.map((n) => [n.drvPath, n]));
const jobEvents = (events: SchedulerEvent[]) => events.filter((e): e is JobEvent => e.type === 'job');

/** Predicts from a fixed table and records what it is told. */
class TableEstimator implements DurationEstimator {
  readonly observed: [string, number][] = [];
  constructor(private readonly table: Record<string, number>) {}
  estimateMs(drvPath: string): number {
    return this.table[drvPath] ?? 1_000;
  }
  observe(drvPath: string, _system: string, ms: number): void {
    this.observed.push([drvPath, ms]);
  }
}

function setup(options: Partial<SchedulerOptions> = {}) {
  const clock = new ManualClock(1_000);
  return { clock, s: new Scheduler(clock, sequentialIds(), options) };
}

function runOne(s: Scheduler, agent: string, outcome: 'built' | 'fail' = 'built') {
  const [a] = s.requestWork(agent, 1).assignments;
  assert.ok(a !== undefined, `${agent} got work`);
  const kind = outcome === 'built' ? { kind: 'built' as const } : { kind: 'build-failure' as const, message: 'exit 1' };
  assert.equal(s.complete(a.jobId, agent, a.epoch, kind).accepted, true);
  return a.drvPath;
}

test('the job on the longest predicted remaining critical path goes first, not the oldest', () => {
  // short (ready first) vs long-chain head: chain1 ← chain2 ← chain3, each 10 min.
  const durations = new TableEstimator({ short: 1_000, chain1: 600_000, chain2: 600_000, chain3: 600_000 });
  const { s, clock } = setup({ durations });
  s.registerAgent('x', x86);
  s.submit({ roots: ['short'] }, graphOf(node('short')), () => false);
  clock.advance(10);
  s.submit({ roots: ['chain3'] }, graphOf(node('chain1'), node('chain2', ['chain1']), node('chain3', ['chain2'])), () => false);
  assert.equal(runOne(s, 'x'), 'chain1', 'the head of a 30-minute chain beats a 1-second job that is older');
  assert.equal(runOne(s, 'x'), 'chain2');
});

test("the hydra policy takes the oldest submission first, then the most reverse dependencies", () => {
  const durations = new TableEstimator({ short: 1_000, chain1: 600_000 });
  const { s, clock } = setup({ durations, policy: 'hydra' });
  s.registerAgent('x', x86);
  s.submit({ roots: ['short'] }, graphOf(node('short')), () => false);
  clock.advance(10);
  s.submit({ roots: ['u1', 'u2', 'lonely'] }, graphOf(node('chain1'), node('lonely'), node('u1', ['chain1']), node('u2', ['chain1'])), () => false);
  assert.equal(runOne(s, 'x'), 'short', 'oldest submission first, whatever the critical path');
  assert.equal(runOne(s, 'x'), 'chain1', 'two reverse dependencies beat none');
});

test('critical paths use what was learned: durations are observed when builds finish, and newly ready jobs use them', () => {
  const durations = new TableEstimator({});
  const { s, clock } = setup({ durations });
  s.registerAgent('x', x86);
  s.submit({ roots: ['b'] }, graphOf(node('a'), node('b', ['a'])), () => false);
  const [a] = s.requestWork('x', 1).assignments;
  clock.advance(4_321);
  s.complete(a!.jobId, 'x', a!.epoch, { kind: 'built' });
  assert.deepEqual(durations.observed, [['a', 4_321]]);
  // A speed-factor-3 agent's wall time is learned as time on a speed-1 agent.
  s.registerAgent('fast', { ...x86, speedFactor: 3 });
  s.setDraining('x', true);
  const [b] = s.requestWork('fast', 1).assignments;
  clock.advance(1_000);
  s.complete(b!.jobId, 'fast', b!.epoch, { kind: 'built' });
  assert.deepEqual(durations.observed[1], ['b', 3_000]);
});

test('ties on the critical path go to the higher submission priority, then to the job ready longest', () => {
  const { s, clock } = setup({ durations: new TableEstimator({}) });
  s.registerAgent('x', x86);
  s.submit({ roots: ['old'] }, graphOf(node('old')), () => false);
  clock.advance(10);
  s.submit({ roots: ['newer'] }, graphOf(node('newer')), () => false);
  s.submit({ roots: ['urgent'], priority: 5 }, graphOf(node('urgent')), () => false);
  assert.deepEqual([runOne(s, 'x'), runOne(s, 'x'), runOne(s, 'x')], ['urgent', 'old', 'newer']);
});

test('fair share: a huge submission with longer critical paths cannot starve a small one', () => {
  const table: Record<string, number> = { small: 1_000 };
  const huge = Array.from({ length: 50 }, (_, i) => `huge${i}`);
  for (const h of huge) table[h] = 3_600_000;
  const { s } = setup({ durations: new TableEstimator(table) });
  s.registerAgent('x1', x86);
  s.registerAgent('x2', x86);
  s.submit({ roots: huge }, graphOf(...huge.map((h) => node(h))), () => false);
  s.submit({ roots: ['small'] }, graphOf(node('small')), () => false);
  // Two slots, two live submissions: each is owed one. The huge one takes the first slot on
  // its critical path; the small one, under its share, gets the second at once.
  const first = s.requestWork('x1', 1).assignments[0]!.drvPath;
  const second = s.requestWork('x2', 1).assignments[0]!.drvPath;
  assert.match(first, /^huge/);
  assert.equal(second, 'small');
});

test('under their shares, jobs go by critical path; a submission past its share waits for the others', () => {
  const { s } = setup({ durations: new TableEstimator({ long: 100_000, long2: 100_000, long3: 100_000, short: 1_000 }) });
  s.registerAgent('x', { ...x86, maxJobs: 4 });
  s.submit({ roots: ['long', 'long2', 'long3'] }, graphOf(node('long'), node('long2'), node('long3')), () => false);
  s.submit({ roots: ['short'] }, graphOf(node('short')), () => false);
  // 4 slots, 2 live submissions: a share of 2 each.
  const got = s.requestWork('x', 4).assignments.map((a) => a.drvPath);
  assert.deepEqual(got, ['long', 'long2', 'short', 'long3'], 'two long ones by critical path; then the first one is at its share, so short; then long3');
});

test('an infrastructure failure retries on a different agent after a capped exponential backoff', () => {
  const { s, clock } = setup({ maxAttempts: 10, retry: { backoffBaseMs: 1_000, backoffCapMs: 4_000, poisonAgents: 10 } });
  s.registerAgent('x1', x86);
  s.registerAgent('x2', x86);
  s.submit({ roots: ['j'] }, graphOf(node('j')), () => false);
  const [a1] = s.requestWork('x1', 1).assignments;
  const r = s.complete(a1!.jobId, 'x1', a1!.epoch, { kind: 'infrastructure-failure', message: 'disk full' });
  assert.match(jobEvents(r.events)[0]!.reason!, /retrying after an infrastructure failure on x1 .*disk full/);
  assert.equal(s.requestWork('x2', 1).assignments.length, 0, 'backing off');
  assert.equal(s.nextDueAt(), clock.now() + 1_000);
  clock.advance(1_000);
  assert.equal(s.requestWork('x1', 1).assignments.length, 0, 'not on the agent it failed on while x2 could take it');
  const [a2] = s.requestWork('x2', 1).assignments;
  assert.ok(a2 !== undefined && a2.epoch > a1!.epoch);
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffMs(n, { backoffBaseMs: 1_000, backoffCapMs: 4_000 })), [1_000, 2_000, 4_000, 4_000, 4_000]);
});

test('a job that brings down N distinct agents is poison: failed, not retried, dependents fail, cached', () => {
  const { s, clock } = setup({ maxAttempts: 10, retry: { poisonAgents: 2 } });
  s.registerAgent('x1', x86);
  s.registerAgent('x2', x86);
  const g = graphOf(node('bomb'), node('user', ['bomb']));
  const sub = s.submit({ roots: ['user'] }, g, () => false);
  s.requestWork('x1', 1);
  s.removeAgent('x1'); // lost while building it
  clock.advance(1_000);
  s.requestWork('x2', 1);
  const events = jobEvents(s.removeAgent('x2'));
  const bomb = events.find((e) => e.drvPath === 'bomb')!;
  assert.equal(bomb.status, 'failed');
  assert.match(bomb.reason!, /poison: brought down 2 distinct agents \(x1, x2\)/);
  assert.equal(events.find((e) => e.drvPath === 'user')?.status, 'dependency-failed');
  assert.equal(s.jobStatus(s.jobIdOf('user')!)!.submissions.includes(sub.submissionId), true);
  s.registerAgent('x3', x86);
  clock.advance(10 * 3_600_000);
  const again = s.submit({ roots: ['user'] }, g, () => false);
  assert.equal(jobEvents(again.events).find((e) => e.drvPath === 'bomb')?.status, 'failed', 'poison stays failed until farm retry');
  assert.equal(s.requestWork('x3', 1).assignments.length, 0);
});

test('a draining agent gets no new work and its slots leave the fair share', () => {
  const { s } = setup();
  s.registerAgent('x', x86);
  s.submit({ roots: ['j'] }, graphOf(node('j')), () => false);
  s.setDraining('x', true);
  assert.equal(s.requestWork('x', 1).assignments.length, 0);
  s.setDraining('x', false);
  assert.equal(s.requestWork('x', 1).assignments.length, 1);
});

test('an agent never gets more than its slots allow, whatever the queue holds', () => {
  const { s } = setup();
  s.registerAgent('x', { ...x86, maxJobs: 2 });
  s.submit({ roots: ['a', 'b', 'c', 'd', 'e'] }, graphOf(node('a'), node('b'), node('c'), node('d'), node('e')), () => false);
  assert.equal(s.requestWork('x', 10).assignments.length, 4, '2 × maxJobs leases at most (building + uploading)');
  assert.equal(s.requestWork('x', 10).assignments.length, 0);
});

test('placement: a job is left to a waiting agent that holds more of its input bytes', () => {
  const { s } = setup();
  s.registerAgent('x1', x86);
  s.registerAgent('x2', x86);
  s.submit({ roots: ['lib', 'other'] }, graphOf(node('lib'), node('other')), () => false);
  const [first] = s.requestWork('x1', 1).assignments;
  assert.equal(first!.drvPath, 'lib');
  s.complete(first!.jobId, 'x1', first!.epoch, { kind: 'built', outputBytes: 5_000_000 });
  assert.equal(s.requestWork('x1', 1).assignments[0]?.drvPath, 'other');
  // x1 asks again and waits (its pipelining slot is free, nothing is queued).
  assert.equal(s.requestWork('x1', 1).assignments.length, 0);
  // x1's store now holds lib's output; app needs it.
  s.submit({ roots: ['app'] }, graphOf(node('lib'), node('app', ['lib'])), (d) => d === 'lib');
  const x2 = s.requestWork('x2', 1).assignments.map((a) => a.drvPath);
  assert.deepEqual(x2, [], 'x2 holds none of app\'s inputs while waiting x1 holds 5 MB of them');
  const x1 = s.requestWork('x1', 1).assignments.map((a) => a.drvPath);
  assert.deepEqual(x1, ['app']);
  assert.match(s.explain(s.jobIdOf('app')!)!.placement!, /x1 asked for work .*held 5000000 bytes of the inputs/);
});

test('placement: with no inputs anywhere, a waiting agent with more free capacity × speed goes first; stopWaiting ends that', () => {
  const { s } = setup();
  s.registerAgent('small', x86);
  s.registerAgent('big', { ...x86, maxJobs: 4, speedFactor: 2 });
  s.requestWork('big', 4); // waiting: nothing queued yet
  s.submit({ roots: ['j'] }, graphOf(node('j')), () => false);
  assert.equal(s.requestWork('small', 1).assignments.length, 0, 'left to the bigger waiting agent');
  s.stopWaiting('big');
  assert.equal(s.requestWork('small', 1).assignments.length, 1, 'big is not waiting any more');
});

test('explain: waiting inputs, no agent fits (and what agents offer), busy agents with a position, backoff, placement', () => {
  const { s, clock } = setup({ durations: new TableEstimator({ a: 5_000, b: 1_000, c: 1_000 }) });
  const arm: AgentCapabilities = { ...x86, systems: ['aarch64-linux'] };
  s.registerAgent('pi', arm);
  const g = graphOf(node('a'), node('b'), node('c', ['a', 'b']));
  s.submit({ roots: ['c'] }, g, () => false);
  const waiting = s.explain(s.jobIdOf('c')!)!;
  assert.equal(waiting.status, 'waiting');
  assert.deepEqual(waiting.waitingFor.map((w) => [w.drvPath, w.status]), [['a', 'ready'], ['b', 'ready']]);
  const noFit = s.explain(s.jobIdOf('a')!)!;
  assert.match(noFit.summary, /waiting for capacity: no connected agent builds for system 'x86_64-linux' \(connected agents offer: aarch64-linux\)/);
  assert.deepEqual(noFit.agents.map((a) => [a.agentId, a.fits]), [['pi', false]]);
  s.registerAgent('x', x86);
  const [running] = s.requestWork('x', 1).assignments;
  assert.equal(running!.drvPath, 'a', 'a is on the longer critical path');
  const queued = s.explain(s.jobIdOf('b')!)!;
  assert.match(queued.summary, /all 1 fitting agent is busy; it is number 1 in their queue/);
  assert.equal(queued.position, 1);
  const run = s.explain(running!.jobId)!;
  assert.match(run.summary, /running on x under lease epoch 1/);
  assert.match(run.details.join('\n'), /why x: x asked for work with 1 free slot and fits x86_64-linux; this was the best ready job it fits \(predicted critical path 6\.0 s/);
  s.complete(running!.jobId, 'x', running!.epoch, { kind: 'infrastructure-failure', message: 'disk full' });
  const backoff = s.explain(running!.jobId)!;
  assert.match(backoff.summary, /backing off after an infrastructure failure until .* \(1 s\)/);
  assert.deepEqual(backoff.failedAgents, ['x']);
  clock.advance(1_000);
  assert.equal(s.explain('nope'), undefined);
});

test('forgetFailure (farm retry): a cached failure or poison is forgotten and the next submission builds it and its dependents', () => {
  const { s } = setup({ retry: { failureTtlMs: 3_600_000 } });
  s.registerAgent('x', x86);
  const g = graphOf(node('bad'), node('user', ['bad']));
  const first = s.submit({ roots: ['user'] }, g, () => false);
  assert.equal(runOne(s, 'x', 'fail'), 'bad');
  assert.deepEqual(s.failedJobsOf(first.submissionId), [s.jobIdOf('bad')], 'user failed only as a dependent');
  assert.equal(s.forgetFailure(s.jobIdOf('user')!), false, 'a dependency failure is not the job\'s own');
  assert.equal(s.forgetFailure(s.jobIdOf('bad')!), true);
  const again = s.submit({ roots: ['user'] }, g, () => false);
  assert.equal(jobEvents(again.events).find((e) => e.drvPath === 'bad')?.status, 'ready');
  assert.deepEqual([runOne(s, 'x'), runOne(s, 'x')], ['bad', 'user']);
  assert.equal(s.forgetFailure(s.jobIdOf('bad')!), false, 'nothing to forget once built');
});

test('submission counters follow shared jobs: a given-up job restarted for a newer submission is unfinished again for the older live one', () => {
  const { s } = setup({ maxAttempts: 1 });
  s.registerAgent('x', { ...x86, maxJobs: 2 });
  const one = s.submit({ roots: ['j', 'k'] }, graphOf(node('j'), node('k')), () => false);
  const [a, b] = s.requestWork('x', 2).assignments;
  const j = [a, b].find((x) => x!.drvPath === 'j')!;
  const k = [a, b].find((x) => x!.drvPath === 'k')!;
  s.complete(j.jobId, 'x', j.epoch, { kind: 'infrastructure-failure', message: 'disk full' });
  assert.equal(s.jobStatus(j.jobId)!.status, 'failed', 'gave up after one attempt');
  s.submit({ roots: ['j'] }, graphOf(node('j')), () => false); // not a cached build failure: j runs again
  const doneAfterK = s.complete(k.jobId, 'x', k.epoch, { kind: 'built' }).events.filter((e) => e.type === 'submission-done');
  assert.deepEqual(doneAfterK, [], `submission ${one.submissionId} still waits for j`);
  const [again] = s.requestWork('x', 1).assignments;
  const done = s.complete(again!.jobId, 'x', again!.epoch, { kind: 'built' }).events.filter((e) => e.type === 'submission-done');
  assert.deepEqual(done.map((e) => e.type === 'submission-done' && [e.submissionId, e.succeeded, e.failed]).sort(), [[one.submissionId, 2, 0], ['sub_2', 1, 0]].sort());
});
