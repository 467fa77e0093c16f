import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, sequentialIds } from '@farm/common';
import { Scheduler, type AgentCapabilities, type DrvNode, type JobEvent, type SchedulerEvent } from '../src/index.js';

const x86: AgentCapabilities = { systems: ['x86_64-linux'], supportedFeatures: ['big-parallel'], mandatoryFeatures: [], maxJobs: 4, speedFactor: 1 };
const arm: AgentCapabilities = { systems: ['aarch64-linux'], supportedFeatures: [], mandatoryFeatures: [], maxJobs: 2, speedFactor: 1 };

function node(drvPath: string, inputDrvs: string[] = [], system = 'x86_64-linux', requiredFeatures: string[] = []): DrvNode {
  return { drvPath, system, requiredFeatures, inputDrvs };
}

function graphOf(...nodes: DrvNode[]): Map<string, DrvNode> {
  return new Map(nodes.map((n) => [n.drvPath, n]));
}

/** a ← b, a ← c, {b, c} ← d (d depends on b and c, which depend on a). */
const diamond = graphOf(node('a'), node('b', ['a']), node('c', ['a']), node('d', ['b', 'c']));

function setup(options = {}) {
  const clock = new ManualClock(1_000);
  const s = new Scheduler(clock, sequentialIds(), options);
  return { clock, s };
}

const jobEvents = (events: SchedulerEvent[]) => events.filter((e): e is JobEvent => e.type === 'job');
const statusOf = (events: SchedulerEvent[], drv: string) => jobEvents(events).filter((e) => e.drvPath === drv).at(-1)?.status;

/** Runs every assignable job on `agent` to success, repeatedly, and returns the build order. */
function drain(s: Scheduler, agent: string): string[] {
  const built: string[] = [];
  for (;;) {
    const { assignments } = s.requestWork(agent, 10);
    if (assignments.length === 0) return built;
    for (const a of assignments) {
      assert.equal(s.complete(a.jobId, agent, a.epoch, { kind: 'built' }).accepted, true);
      built.push(a.drvPath);
    }
  }
}

test('a diamond builds inputs first, each job once, and the submission finishes', () => {
  const { s } = setup();
  s.registerAgent('x', x86);
  const sub = s.submit({ roots: ['d'] }, diamond, () => false);
  assert.equal(sub.jobs, 4);
  assert.equal(statusOf(sub.events, 'a'), 'ready');
  assert.equal(statusOf(sub.events, 'd'), 'waiting');
  const first = s.requestWork('x', 10);
  assert.deepEqual(first.assignments.map((a) => a.drvPath), ['a'], 'only the leaf is ready');
  const done = s.complete(first.assignments[0]!.jobId, 'x', first.assignments[0]!.epoch, { kind: 'built' });
  assert.deepEqual(jobEvents(done.events).filter((e) => e.status === 'ready').map((e) => e.drvPath).sort(), ['b', 'c']);
  const order = drain(s, 'x');
  assert.deepEqual(order.slice(0, 2).sort(), ['b', 'c']);
  assert.equal(order[2], 'd');
  assert.equal(s.jobStatus(s.jobIdOf('d')!)!.status, 'succeeded');
});

test('outputs already valid are not jobs, and their inputs are not visited', () => {
  const { s } = setup();
  const sub = s.submit({ roots: ['d'] }, diamond, (d) => d === 'b' || d === 'c');
  assert.equal(sub.jobs, 1, 'only d needs building');
  assert.equal(sub.alreadyValid, 2);
  assert.equal(s.jobIdOf('a'), undefined);
});

test('overlapping submissions share jobs: each derivation is built exactly once', () => {
  const { s } = setup();
  s.registerAgent('x', x86);
  const one = s.submit({ roots: ['b'] }, diamond, () => false);
  const two = s.submit({ roots: ['d'] }, diamond, () => false);
  assert.equal(one.jobs, 2);
  assert.equal(two.jobs, 4);
  assert.equal(two.shared, 2, 'a and b were already queued');
  const built = drain(s, 'x');
  assert.deepEqual([...built].sort(), ['a', 'b', 'c', 'd']);
  const resubmit = s.submit({ roots: ['d'] }, diamond, () => true);
  assert.equal(resubmit.jobs, 0, 'submitting again builds nothing');
  assert.ok(resubmit.events.some((e) => e.type === 'submission-done'));
});

test('a failing derivation fails exactly its dependents; the rest still build', () => {
  const { s } = setup();
  s.registerAgent('x', x86);
  const g = graphOf(node('a'), node('bad', ['a']), node('c', ['a']), node('d', ['bad', 'c']), node('e', ['d']), node('f', ['c']));
  const sub = s.submit({ roots: ['e', 'f'] }, g, () => false);
  const all: SchedulerEvent[] = [...sub.events];
  for (;;) {
    const { assignments } = s.requestWork('x', 10);
    if (assignments.length === 0) break;
    for (const a of assignments) {
      const outcome = a.drvPath === 'bad' ? ({ kind: 'build-failure', message: "builder for 'bad' failed with exit code 1" } as const) : ({ kind: 'built' } as const);
      all.push(...s.complete(a.jobId, 'x', a.epoch, outcome).events);
    }
  }
  assert.equal(statusOf(all, 'bad'), 'failed');
  assert.equal(statusOf(all, 'd'), 'dependency-failed');
  assert.equal(statusOf(all, 'e'), 'dependency-failed');
  assert.match(jobEvents(all).find((e) => e.drvPath === 'e' && e.status === 'dependency-failed')!.reason!, /dependency failed: bad/);
  for (const ok of ['a', 'c', 'f']) assert.equal(statusOf(all, ok), 'succeeded', ok);
  const done = all.find((e) => e.type === 'submission-done');
  assert.deepEqual(done && { succeeded: done.succeeded, failed: done.failed }, { succeeded: 3, failed: 3 });
});

test('a job no agent fits waits for capacity, naming the system; a fitting agent then builds it', () => {
  const { s } = setup();
  s.registerAgent('x', x86);
  const g = graphOf(node('arm-hello', [], 'aarch64-linux'));
  const sub = s.submit({ roots: ['arm-hello'] }, g, () => false);
  const waiting = jobEvents(sub.events).at(-1)!;
  assert.equal(waiting.status, 'ready');
  assert.match(waiting.reason!, /waiting for capacity: no connected agent builds for system 'aarch64-linux'/);
  assert.equal(s.requestWork('x', 4).assignments.length, 0, 'the x86 agent never gets it');
  const joined = jobEvents(s.registerAgent('arm', arm));
  assert.equal(joined.length, 1);
  assert.equal(joined[0]!.reason, undefined, 'no longer waiting for capacity');
  assert.deepEqual(s.requestWork('arm', 2).assignments.map((a) => a.drvPath), ['arm-hello']);
});

test('routing follows Nix: missing features are named, mandatory features keep other jobs away', () => {
  const { s } = setup();
  s.registerAgent('x', x86);
  s.registerAgent('kvm', { ...x86, supportedFeatures: [], mandatoryFeatures: ['kvm'] });
  const g = graphOf(node('plain'), node('needs-kvm', [], 'x86_64-linux', ['kvm']), node('needs-cuda', [], 'x86_64-linux', ['cuda']));
  const sub = s.submit({ roots: ['plain', 'needs-kvm', 'needs-cuda'] }, g, () => false);
  assert.match(jobEvents(sub.events).find((e) => e.drvPath === 'needs-cuda')!.reason!, /offers feature \{cuda\}/);
  assert.deepEqual(s.requestWork('kvm', 4).assignments.map((a) => a.drvPath), ['needs-kvm'], 'a mandatory-feature agent only takes jobs that require it');
  assert.deepEqual(s.requestWork('x', 4).assignments.map((a) => a.drvPath), ['plain']);
});

test('an expired lease is re-queued under a new epoch and the stale result is refused', () => {
  const { s, clock } = setup({ leaseMs: 10_000 });
  s.registerAgent('x1', x86);
  s.registerAgent('x2', x86);
  s.submit({ roots: ['a'] }, diamond, () => false);
  const [first] = s.requestWork('x1', 1).assignments;
  clock.advance(5_000);
  assert.equal(s.heartbeat('x1', [{ jobId: first!.jobId, epoch: first!.epoch }]).renewed.length, 1);
  clock.advance(15_001);
  const expired = jobEvents(s.expireLeases());
  assert.equal(expired[0]?.status, 'ready');
  assert.equal(expired[0]?.epoch, first!.epoch + 1);
  assert.equal(s.requestWork('x2', 1).assignments.length, 0, 'backing off after the infrastructure failure');
  clock.advance(1_000);
  const [second] = s.requestWork('x2', 1).assignments;
  assert.equal(second!.jobId, first!.jobId);
  const stale = s.complete(first!.jobId, 'x1', first!.epoch, { kind: 'built' });
  assert.equal(stale.accepted, false);
  assert.match(stale.reason!, /stale epoch/);
  assert.deepEqual(s.heartbeat('x1', [{ jobId: first!.jobId, epoch: first!.epoch }]).revoked.length, 1, 'the old holder is told to stop');
  assert.equal(s.complete(second!.jobId, 'x2', second!.epoch, { kind: 'built' }).accepted, true);
});

test('a lost agent returns its jobs; infrastructure failures retry up to maxAttempts', () => {
  // Every assignment is an attempt, including the one whose agent was lost.
  const { s, clock } = setup({ maxAttempts: 3 });
  s.registerAgent('x1', x86);
  s.submit({ roots: ['a'] }, diamond, () => false);
  const [a1] = s.requestWork('x1', 1).assignments;
  const lost = jobEvents(s.removeAgent('x1'));
  assert.equal(lost[0]?.status, 'ready');
  assert.match(lost[0]!.reason!, /agent x1 was lost/);
  s.registerAgent('x2', x86);
  clock.advance(1_000);
  const [a2] = s.requestWork('x2', 1).assignments;
  assert.ok(a2!.epoch > a1!.epoch, 'a new lease epoch fences the lost agent');
  const retry = s.complete(a2!.jobId, 'x2', a2!.epoch, { kind: 'infrastructure-failure', message: 'sandbox setup failed' });
  assert.equal(jobEvents(retry.events)[0]?.status, 'ready');
  clock.advance(2_000); // the second retry backs off twice as long
  const [a3] = s.requestWork('x2', 1).assignments;
  assert.ok(a3 !== undefined, 'x2 failed it before, but no other agent could take it');
  const final = s.complete(a3!.jobId, 'x2', a3!.epoch, { kind: 'infrastructure-failure', message: 'sandbox setup failed' });
  assert.equal(jobEvents(final.events)[0]?.status, 'failed', 'gives up after maxAttempts');
});

test('cancel stops what nobody else needs and says what it left running and why', () => {
  const { s } = setup();
  s.registerAgent('x', { ...x86, maxJobs: 1 });
  const mine = s.submit({ roots: ['b'] }, diamond, () => false);
  s.submit({ roots: ['c'] }, diamond, () => false);
  const [a] = s.requestWork('x', 1).assignments;
  assert.equal(a!.drvPath, 'a');
  const c = s.cancel(mine.submissionId);
  assert.deepEqual(c.cancelled, ['b']);
  assert.match(c.leftRunning.get('a')!, /still needed by submission sub_2/);
  assert.equal(c.revoke.length, 0);
  const theirs = s.cancel('sub_2');
  assert.deepEqual(theirs.revoke.map((r) => r.drvPath), ['a'], 'the running build is revoked');
  assert.equal(s.complete(a!.jobId, 'x', a!.epoch, { kind: 'built' }).accepted, false, 'a cancelled job refuses late results');
});

test('higher submission priority runs first among ready jobs, then age', () => {
  const { s, clock } = setup();
  s.registerAgent('x', { ...x86, maxJobs: 1 });
  s.submit({ roots: ['old'] }, graphOf(node('old')), () => false);
  clock.advance(10);
  s.submit({ roots: ['newer'] }, graphOf(node('newer')), () => false);
  s.submit({ roots: ['urgent'], priority: 5 }, graphOf(node('urgent')), () => false);
  const order: string[] = [];
  for (let i = 0; i < 3; i++) {
    const [a] = s.requestWork('x', 1).assignments;
    order.push(a!.drvPath);
    s.complete(a!.jobId, 'x', a!.epoch, { kind: 'built' });
  }
  assert.deepEqual(order, ['urgent', 'old', 'newer']);
});

test('a deep chain is admitted without recursion limits', () => {
  const { s } = setup();
  const nodes = Array.from({ length: 50_000 }, (_, i) => node(`d${i}`, i === 0 ? [] : [`d${i - 1}`]));
  const sub = s.submit({ roots: ['d49999'] }, graphOf(...nodes), () => false);
  assert.equal(sub.jobs, 50_000);
});

test('a build failure is cached for new submissions until its TTL; then the job and its dependents run again', () => {
  const { s, clock } = setup({ retry: { failureTtlMs: 60_000 } });
  s.registerAgent('x', x86);
  const g = graphOf(node('flaky'), node('user', ['flaky']));
  s.submit({ roots: ['user'] }, g, () => false);
  const [a] = s.requestWork('x', 1).assignments;
  s.complete(a!.jobId, 'x', a!.epoch, { kind: 'build-failure', message: 'exit 1' });
  assert.equal(s.jobStatus(s.jobIdOf('user')!)!.status, 'dependency-failed');
  const cached = s.submit({ roots: ['user'] }, g, () => false);
  assert.equal(statusOf(cached.events, 'flaky'), 'failed');
  assert.match(jobEvents(cached.events).find((e) => e.drvPath === 'flaky')!.reason!, /cached failure .*exit 1/);
  assert.equal(statusOf(cached.events, 'user'), 'dependency-failed');
  assert.ok(cached.events.some((e) => e.type === 'submission-done'), 'nothing to wait for');
  assert.equal(s.requestWork('x', 1).assignments.length, 0, 'not built again within the TTL');
  clock.advance(60_000);
  const again = s.submit({ roots: ['user'] }, g, () => false);
  assert.equal(statusOf(again.events, 'flaky'), 'ready');
  assert.equal(statusOf(again.events, 'user'), 'waiting');
  assert.deepEqual(drain(s, 'x'), ['flaky', 'user']);
});

test('a resubmission within the failure TTL fails the whole chain below a cached failure and is done at once', () => {
  const { s } = setup({ retry: { failureTtlMs: 60_000 } });
  s.registerAgent('x', x86);
  // failing ← dependent ← dependent2 (examples/big-dag#failing's shape)
  const g = graphOf(node('failing'), node('dependent', ['failing']), node('dependent2', ['dependent']));
  s.submit({ roots: ['dependent2'] }, g, () => false);
  const [a] = s.requestWork('x', 1).assignments;
  s.complete(a!.jobId, 'x', a!.epoch, { kind: 'build-failure', message: 'exit 1' });
  assert.equal(s.jobStatus(s.jobIdOf('dependent2')!)!.status, 'dependency-failed');
  const again = s.submit({ roots: ['dependent2'] }, g, () => false);
  assert.equal(statusOf(again.events, 'dependent'), 'dependency-failed');
  assert.equal(statusOf(again.events, 'dependent2'), 'dependency-failed');
  assert.equal(jobEvents(again.events).findLast((e) => e.drvPath === 'dependent2')!.reason, 'dependency failed: failing');
  assert.ok(again.events.some((e) => e.type === 'submission-done'), 'nothing left to wait for');
  assert.equal(s.requestWork('x', 1).assignments.length, 0);
});

test('an agent may hold up to twice its maxJobs leases: maxJobs building, the rest finishing', () => {
  const { s } = setup();
  s.registerAgent('x', { ...x86, maxJobs: 1 });
  s.submit({ roots: ['a1', 'a2', 'a3'] }, graphOf(node('a1'), node('a2'), node('a3')), () => false);
  const first = s.requestWork('x', 1).assignments;
  assert.equal(first.length, 1);
  // Its sandbox is done (the agent reports a free build slot while it uploads): one more.
  const second = s.requestWork('x', 1).assignments;
  assert.equal(second.length, 1);
  assert.equal(s.requestWork('x', 1).assignments.length, 0, 'never more than 2 × maxJobs leases');
  s.complete(first[0]!.jobId, 'x', first[0]!.epoch, { kind: 'built' });
  assert.equal(s.requestWork('x', 1).assignments.length, 1);
});
