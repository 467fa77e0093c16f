/**
 * The two restart-recovery operations the service added to the pure Scheduler:
 * restoreFailure (a recorded build failure fails the job again, and exactly its dependents) and
 * adoptLease (an agent that still runs a job re-adopts its lease only under the exact epoch the
 * job is queued at; the adopted lease is fenced, renewed and expired like any other).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, sequentialIds } from '@farm/common';
import { Scheduler, type AgentCapabilities, type DrvNode, type JobEvent, type SchedulerEvent } from '../src/index.js';

const caps: AgentCapabilities = { systems: ['x86_64-linux'], supportedFeatures: [], mandatoryFeatures: [], maxJobs: 4, speedFactor: 1 };
const node = (drvPath: string, inputDrvs: string[] = []): DrvNode => ({ drvPath, system: 'x86_64-linux', requiredFeatures: [], inputDrvs });
const diamond = new Map([node('a'), node('b', ['a']), node('c', ['a']), node('d', ['b', 'c'])].map((n) => [n.drvPath, n]));
const jobs = (events: SchedulerEvent[]) => events.filter((e): e is JobEvent => e.type === 'job').map((e) => [e.drvPath, e.status, e.reason]);

function fresh(epochs: Record<string, number> = {}) {
  const clock = new ManualClock(1_000);
  const s = new Scheduler(clock, sequentialIds(), { leaseMs: 100, jobIdFor: (d) => `job-${d}`, epochFloorOf: (d) => epochs[d] ?? 0 });
  return { clock, s };
}

test('restoreFailure fails the job with the recorded reason and exactly its dependents', () => {
  const { s } = fresh({ b: 3 });
  const sub = s.submit({ submissionId: 'sub_1', roots: ['d'] }, diamond, (d) => d === 'a');
  assert.equal(sub.jobs, 3);
  const events = s.restoreFailure('job-b', 'b does not compile');
  assert.deepEqual(jobs(events), [
    ['b', 'failed', 'b does not compile'],
    ['d', 'dependency-failed', 'dependency failed: b'],
  ]);
  assert.ok(s.jobStatus('job-b')!.epoch > 3, 'epochs keep growing');
  assert.deepEqual(s.restoreFailure('job-b', 'again'), [], 'only a waiting or ready job can be restored as failed');
  assert.deepEqual(s.restoreFailure('job-nope', 'x'), []);
  // c still runs; when it is built the submission is done with one failure.
  s.registerAgent('x', caps);
  const { assignments } = s.requestWork('x', 4);
  assert.deepEqual(assignments.map((a) => a.drvPath), ['c']);
  const done = s.complete('job-c', 'x', assignments[0]!.epoch, { kind: 'built' }).events.filter((e) => e.type === 'submission-done');
  assert.deepEqual(done.map((e) => [e.type === 'submission-done' && e.succeeded, e.type === 'submission-done' && e.failed]), [[1, 2]]);
});

test('adoptLease re-adopts only the exact queued epoch; the lease then behaves like any other', () => {
  const { clock, s } = fresh({ a: 4 });
  s.submit({ submissionId: 'sub_1', roots: ['b'] }, diamond, () => false);
  assert.deepEqual(s.adoptLease('job-a', 'x', 4), { adopted: false, events: [] }, 'unknown agent');
  s.registerAgent('x', caps);
  s.registerAgent('y', caps);
  assert.equal(s.adoptLease('job-a', 'x', 3).adopted, false, 'an older epoch is not adopted');
  assert.equal(s.adoptLease('job-b', 'x', 0).adopted, false, 'a waiting job is not adopted');
  const r = s.adoptLease('job-a', 'x', 4);
  assert.equal(r.adopted, true);
  assert.deepEqual(jobs(r.events), [['a', 'running', undefined]]);
  assert.deepEqual(s.leaseHolder('job-a'), { agentId: 'x', epoch: 4, deadline: 1_100 });
  assert.equal(s.adoptLease('job-a', 'y', 4).adopted, false, 'held now');
  assert.deepEqual(s.requestWork('y', 4).assignments, [], 'its stale queue entry is skipped');
  assert.deepEqual(s.heartbeat('x', [{ jobId: 'job-a', epoch: 4 }]).renewed, [{ jobId: 'job-a', epoch: 4 }]);
  // Not renewed any more: it expires and is queued again under a higher epoch.
  clock.advance(101);
  const expired = jobs(s.expireLeases());
  assert.deepEqual(expired.map(([d, st]) => [d, st]), [['a', 'ready']]);
  assert.match(String(expired[0]![2]), /^retrying after an infrastructure failure on x .*lease of agent x expired/);
  clock.advance(1_000); // its retry backoff
  const [again] = s.requestWork('y', 4).assignments;
  assert.equal(again?.drvPath, 'a');
  assert.ok(again!.epoch > 4);
  assert.equal(s.complete('job-a', 'x', 4, { kind: 'built' }).accepted, false, 'the adopted epoch is fenced off now');
  assert.equal(s.complete('job-a', 'y', again!.epoch, { kind: 'built' }).accepted, true);
});
