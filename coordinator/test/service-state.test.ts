/**
 * The LMDB coordinator state on real files: a batch commits all of its rows or none, events and
 * builds come back in numeric order per submission / derivation (zero-padded keys; no bleeding
 * into a neighbour whose id is a prefix), submissions oldest first, and everything survives a
 * reopen.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCoordinatorState, type BuildRow, type CoordinatorState, type EventRow, type JobRow, type SubmissionRow } from '../src/index.js';

const sub = (id: string, createdMs: number, extra: Partial<SubmissionRow> = {}): SubmissionRow => ({
  id,
  roots: [`/nix/store/${'a'.repeat(32)}-${id}.drv`],
  priority: 0,
  client: 'c',
  createdMs,
  timeoutMs: 0,
  maxSilentMs: 0,
  done: false,
  jobsTotal: 1,
  alreadyValid: 0,
  shared: 0,
  succeeded: 0,
  failed: 0,
  lastSeq: 0,
  ...extra,
});
const event = (submissionId: string, sequence: number): EventRow => ({
  sequence,
  submissionId,
  jobId: 'j',
  drvPath: '/nix/store/x.drv',
  state: 'JOB_STATE_READY',
  agentId: '',
  reason: `event ${sequence}`,
  timeMs: sequence,
  outputs: sequence === 3 ? { out: '/nix/store/y-out' } : {},
  final: false,
});
const job = (drvPath: string, epoch: number): JobRow => ({ drvPath, jobId: 'j', epoch, status: 'running', agentId: 'a', reason: '', readyMs: 1, assignedMs: 2, runEpoch: epoch });
const build = (drvPath: string, epoch: number): BuildRow => ({ jobId: 'j', drvPath, epoch, agentId: 'a', status: 'built', readyMs: 1, assignedMs: 2, finishedMs: 3, message: '' });

test('coordinator state: atomic batches, ordered ranges, reopen', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'farm-state-'));
  let state: CoordinatorState = openCoordinatorState(dir);
  try {
    const drv = '/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-x.drv';
    await state.commit({
      submissions: [sub('sub_2', 20), sub('sub_1', 20), sub('sub_0', 10)],
      // sub_1 and its prefix-neighbour sub_10; sequences past 9 and 99 must sort numerically.
      events: [1, 2, 3, 10, 100].map((n) => event('sub_1', n)).concat([event('sub_10', 1)]),
      jobs: [job(drv, 2)],
      builds: [build(drv, 10), build(drv, 2), build(`${drv.slice(0, -4)}y.drv`, 1)],
    });
    assert.deepEqual(state.listSubmissions().map((s) => s.id), ['sub_0', 'sub_1', 'sub_2']);
    assert.deepEqual(state.events('sub_1', 0).map((e) => e.sequence), [1, 2, 3, 10, 100]);
    assert.deepEqual(state.events('sub_1', 3).map((e) => e.sequence), [3, 10, 100]);
    assert.deepEqual(state.events('sub_1', 101), []);
    assert.deepEqual(state.events('sub_10', 0).map((e) => [e.submissionId, e.sequence]), [['sub_10', 1]]);
    assert.deepEqual(state.events('sub_1', 3)[0]?.outputs, { out: '/nix/store/y-out' });
    assert.deepEqual(state.listBuilds(drv).map((b) => b.epoch), [2, 10]);
    assert.equal(state.listBuilds().length, 3);
    assert.deepEqual(state.getBuild(drv, 10), build(drv, 10));
    assert.equal(state.getBuild(drv, 3), undefined);

    // A batch whose write fails leaves nothing behind.
    // (A key beyond LMDB's size limit makes the second put throw.)
    const bad = sub('x'.repeat(4000), 1);
    await assert.rejects(state.commit({ submissions: [sub('sub_ok', 1), bad], jobs: [job(drv, 9)] }));
    assert.equal(state.getSubmission('sub_ok'), undefined);
    assert.equal(state.getJob(drv)?.epoch, 2);

    await state.close();
    await state.close();
    await assert.rejects(async () => state.getJob(drv), { code: 'UNAVAILABLE' });
    state = openCoordinatorState(dir);
    assert.deepEqual(state.getJob(drv), job(drv, 2));
    assert.deepEqual(state.getSubmission('sub_0'), sub('sub_0', 10));
    assert.deepEqual(state.events('sub_1', 0).map((e) => e.reason), ['event 1', 'event 2', 'event 3', 'event 10', 'event 100']);
    assert.deepEqual(state.listJobs().map((j) => j.drvPath), [drv]);
  } finally {
    await state.close();
    await rm(dir, { recursive: true, force: true });
  }
});
