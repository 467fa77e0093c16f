/**
 * Leases end to end: a Revoke on the control subject kills the build (CANCELLED, never BUILT);
 * an agent whose heartbeats go unanswered kills its builds after leaseMs and reports nothing
 * (self-fencing); a heartbeat answered NOT_FOUND makes the agent register again, listing the
 * leases it still holds; a lease revoked in a heartbeat ack is killed too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { processesWith, scriptDrv } from './fixtures/build-helpers.js';
import { assignmentOf, startHarness, type Harness } from './fixtures/fake-coordinator-harness.js';

/**
 * A build that says it started and then sleeps "forever"; `marker` finds the sleep's process.
 * The marker comes in through the environment so that only the sleep's command line shows it
 * (not the builder's script, not bwrap's), which also means the echo has run when it is seen.
 */
function longBuild(): { drv: ReturnType<typeof scriptDrv>; marker: string } {
  const marker = `3600.${BigInt(`0x${randomBytes(6).toString('hex')}`)}`;
  return { drv: scriptDrv('echo started; /bin/sleep $SLEEP_FOR; echo done > $out', { env: { SLEEP_FOR: marker } }), marker };
}

async function sleeping(h: Harness, marker: string): Promise<void> {
  await h.fake.until(`the sleep ${marker} to run`, () => processesWith(marker).length > 0);
}

async function gone(h: Harness, marker: string): Promise<void> {
  await h.fake.until(`the sleep ${marker} to be killed`, () => processesWith(marker).length === 0);
}

test('a Revoke on the control subject kills the build at once: CANCELLED, no BUILT, the log ends', async () => {
  const h = await startHarness();
  try {
    const { drv, marker } = longBuild();
    const { assignment, jobId } = assignmentOf(drv);
    h.fake.assign(assignment);
    await sleeping(h, marker);
    await h.fake.revoke(h.agent.agentId, { jobId, epoch: '1' }, 'cancelled by the user');
    const { result } = await h.fake.waitForResult(jobId, '1', 20_000);
    assert.equal(result.status, 'BUILD_STATUS_CANCELLED');
    assert.match(result.message, /cancelled by the user/);
    assert.deepEqual(processesWith(marker), []);
    assert.equal(h.fake.uploads.length, 0);
    const chunks = await h.fake.readLogs(jobId);
    assert.equal(chunks.at(-1)?.eof, true);
    assert.match(Buffer.concat(chunks.map((c) => c.data)).toString(), /^started\n/);
    assert.equal(h.fake.results.filter((r) => r.result.lease?.jobId === jobId).length, 1);
  } finally {
    await h.close();
  }
});

test('a Revoke for another epoch of the job leaves the running build alone', async () => {
  const h = await startHarness();
  try {
    const { drv, marker } = longBuild();
    const { assignment, jobId } = assignmentOf(drv, [], { epoch: '3' });
    h.fake.assign(assignment);
    await sleeping(h, marker);
    await h.fake.revoke(h.agent.agentId, { jobId, epoch: '2' }, 'old attempt');
    // A heartbeat sent after the revoke still holds the lease.
    const seen = h.fake.heartbeats.length;
    await h.fake.until('a later heartbeat', () => h.fake.heartbeats.length > seen + 1);
    assert.deepEqual(h.fake.heartbeats.at(-1)?.leases, [{ jobId, epoch: '3' }]);
    assert.ok(processesWith(marker).length > 0);
    await h.fake.revoke(h.agent.agentId, { jobId, epoch: '3' }, 'now this one');
    assert.equal((await h.fake.waitForResult(jobId, '3', 20_000)).result.status, 'BUILD_STATUS_CANCELLED');
  } finally {
    await h.close();
  }
});

test('a lease listed as revoked in a heartbeat ack is killed', async () => {
  const h = await startHarness({ heartbeatMs: 200 });
  try {
    const { drv, marker } = longBuild();
    const { assignment, jobId } = assignmentOf(drv);
    h.fake.assign(assignment);
    await sleeping(h, marker);
    h.fake.revokeInAck.add(`${jobId}:1`);
    const { result } = await h.fake.waitForResult(jobId, '1', 20_000);
    assert.equal(result.status, 'BUILD_STATUS_CANCELLED');
    await gone(h, marker);
  } finally {
    await h.close();
  }
});

test('self-fencing: when heartbeats go unanswered the build is killed after leaseMs and nothing is reported', async () => {
  const h = await startHarness({ leaseMs: 1500, heartbeatMs: 200 });
  try {
    const { drv, marker } = longBuild();
    const { assignment, jobId } = assignmentOf(drv);
    h.fake.assign(assignment);
    await sleeping(h, marker);
    await h.fake.until('the lease in a heartbeat', () => h.fake.heartbeats.some((b) => b.leases.some((l) => l.jobId === jobId)));
    h.fake.heartbeatMode = 'silent';
    await gone(h, marker);
    // The attempt ends with its log's eof …
    const chunks = await h.fake.readLogs(jobId);
    assert.equal(chunks.at(-1)?.eof, true);
    // … and no result: a later job (heartbeats answered again) is reported, the fenced one never.
    h.fake.heartbeatMode = 'answer';
    const next = assignmentOf(scriptDrv('echo ok > $out'));
    h.fake.assign(next.assignment);
    assert.equal((await h.fake.waitForResult(next.jobId)).result.status, 'BUILD_STATUS_BUILT');
    assert.equal(h.fake.resultFor(jobId), undefined);
    assert.equal(h.fake.uploads.filter((u) => u.lease?.jobId === jobId).length, 0);
  } finally {
    await h.close();
  }
});

test('a heartbeat answered NOT_FOUND makes the agent register again, listing the leases it holds', async () => {
  const h = await startHarness({ heartbeatMs: 200 });
  try {
    const { drv, marker } = longBuild();
    const { assignment, jobId } = assignmentOf(drv);
    h.fake.assign(assignment);
    await sleeping(h, marker);
    assert.equal(h.fake.hellos.length, 1);
    assert.deepEqual(h.fake.hellos[0]!.running, []);
    h.fake.heartbeatMode = 'not-found';
    const again = await h.fake.until('a second hello', () => h.fake.hellos[1]);
    assert.equal(again.name, h.agent.agentId);
    assert.deepEqual(again.running, [{ jobId, epoch: '1' }]);
    // Heartbeats resume after it and the build kept running.
    const seen = h.fake.heartbeats.length;
    await h.fake.until('heartbeats after registering again', () => h.fake.heartbeats.length > seen + 1 && h.fake.heartbeats.at(-1)!.leases.length === 1);
    assert.ok(processesWith(marker).length > 0);
    await h.fake.revoke(h.agent.agentId, { jobId, epoch: '1' }, 'done testing');
    assert.equal((await h.fake.waitForResult(jobId, '1', 20_000)).result.status, 'BUILD_STATUS_CANCELLED');
  } finally {
    await h.close();
  }
});

test('close() kills running builds, reports nothing for them and stops pulling work', async () => {
  const h = await startHarness();
  try {
    const { drv, marker } = longBuild();
    const { assignment, jobId } = assignmentOf(drv);
    h.fake.assign(assignment);
    await sleeping(h, marker);
    await h.agent.close();
    assert.deepEqual(processesWith(marker), []);
    const polls = h.fake.workRequests.length;
    const beats = h.fake.heartbeats.length;
    // The log still ends; no result is published for the killed build.
    const chunks = await h.fake.readLogs(jobId);
    assert.equal(chunks.at(-1)?.eof, true);
    assert.equal(h.fake.resultFor(jobId), undefined);
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(h.fake.workRequests.length, polls);
    assert.equal(h.fake.heartbeats.length, beats);
    await h.agent.close(); // idempotent
  } finally {
    await h.close();
  }
});

test('the agent long-polls only while it has a free slot', async () => {
  const h = await startHarness({ maxJobs: 1, heartbeatMs: 200 });
  try {
    const { drv, marker } = longBuild();
    const { assignment, jobId } = assignmentOf(drv);
    h.fake.assign(assignment);
    await sleeping(h, marker);
    const polls = h.fake.workRequests.length;
    const beats = h.fake.heartbeats.length;
    await h.fake.until('three more heartbeats', () => h.fake.heartbeats.length >= beats + 3);
    assert.equal(h.fake.workRequests.length, polls, 'no work request while the only slot is busy');
    assert.equal(h.fake.heartbeats.at(-1)!.freeSlots, 0);
    await h.fake.revoke(h.agent.agentId, { jobId, epoch: '1' }, 'free the slot');
    await h.fake.waitForResult(jobId, '1', 20_000);
    const poll = await h.fake.until('a work request after the slot freed', () => h.fake.workRequests[polls]);
    assert.equal(poll.freeSlots, 1);
  } finally {
    await h.close();
  }
});

test('a lease assigned twice runs once', async () => {
  const h = await startHarness({ heartbeatMs: 200 });
  try {
    const { drv, marker } = longBuild();
    const { assignment, jobId } = assignmentOf(drv);
    h.fake.assign(assignment);
    h.fake.assign(assignment);
    await sleeping(h, marker);
    await h.fake.until('both handed out', () => h.fake.workRequests.length >= 2 && h.fake.currentEpoch.get(jobId) === '1');
    const beats = h.fake.heartbeats.length;
    await h.fake.until('two more heartbeats', () => h.fake.heartbeats.length >= beats + 2);
    assert.deepEqual(h.fake.heartbeats.at(-1)!.leases, [{ jobId, epoch: '1' }]);
    assert.equal(h.fake.heartbeats.at(-1)!.freeSlots, 1);
    assert.equal(processesWith(marker).length, 1);
    await h.fake.revoke(h.agent.agentId, { jobId, epoch: '1' }, 'end');
    assert.equal((await h.fake.waitForResult(jobId, '1', 20_000)).result.status, 'BUILD_STATUS_CANCELLED');
  } finally {
    await h.close();
  }
});
