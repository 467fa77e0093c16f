import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assign, cancel, complete, expire, markReady, newJob, renew, type Job, type Transition } from '../src/index.js';

function ok(t: Transition): Job {
  assert.ok(t.ok, t.ok ? '' : t.reason);
  return t.job;
}

test('a job waits for inputs, becomes ready, is leased and succeeds', () => {
  let job = newJob(false);
  assert.equal(job.state, 'waiting');
  job = ok(markReady(job));
  job = ok(assign(job, 'a1', 1000, 15_000));
  assert.deepEqual(job.lease, { agentId: 'a1', epoch: 1, deadline: 16_000 });
  job = ok(renew(job, 'a1', 1, 10_000, 15_000));
  assert.equal(job.lease?.deadline, 25_000);
  job = ok(complete(job, 'a1', 1, true));
  assert.equal(job.state, 'succeeded');
});

test('an expired lease returns the job under a new epoch and fences the old holder', () => {
  let job = ok(assign(newJob(true), 'a1', 0, 100));
  assert.equal(expire(job, 100).ok, false, 'not expired at the deadline itself');
  job = ok(expire(job, 101));
  assert.equal(job.state, 'ready');
  assert.equal(job.epoch, 2);
  job = ok(assign(job, 'a2', 200, 100));
  assert.equal(job.epoch, 3);
  const stale = complete(job, 'a1', 1, true);
  assert.equal(stale.ok, false);
  assert.match(stale.ok ? '' : stale.reason, /stale epoch 1/);
  assert.equal(renew(job, 'a1', 1, 201, 100).ok, false);
  assert.equal(complete(job, 'a1', 3, true).ok, false, 'right epoch, wrong agent');
  assert.equal(ok(complete(job, 'a2', 3, false)).state, 'failed');
});

test('terminal jobs cannot be cancelled or completed again', () => {
  const done = ok(complete(ok(assign(newJob(true), 'a', 0, 10)), 'a', 1, true));
  assert.equal(cancel(done).ok, false);
  assert.equal(complete(done, 'a', 1, true).ok, false);
  const cancelled = ok(cancel(ok(assign(newJob(true), 'a', 0, 10))));
  assert.equal(cancelled.state, 'cancelled');
  assert.equal(complete(cancelled, 'a', 1, true).ok, false, 'a cancelled job refuses late results');
});
