/**
 * Restart: the service, the store and the state are closed mid-build and reopened from the same
 * directories. Acknowledged submissions are still there (Status, Watch replay with sequences
 * continuing), a recorded build failure stays failed instead of being built again, an agent that
 * still runs a job re-adopts its lease, a job whose agent did not come back runs again under a
 * higher epoch (the old epoch's result is refused), and everything still completes. Done
 * submissions are not replayed, and what was built stays recorded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildAndReport,
  diamondExpression,
  DIAMOND_ATTRS,
  instantiate,
  registerAgent,
  requestWork,
  result,
  uploadClosure,
  watch,
  withFarm,
  type TestFarm,
  submitRoots,
} from './service-fixtures.js';

const submit = (farm: TestFarm, roots: string[]) => submitRoots(farm, roots, { client: 'restart-test' });

test('a restart loses no acknowledged submission, keeps failures and epochs, and everything completes', { timeout: 60_000 }, async () => {
  const drvs = await instantiate(diamondExpression('restart'), DIAMOND_ATTRS);
  await withFarm(async (farm) => {
    await uploadClosure(farm.client, [drvs.top!, drvs.feature!]);
    const s1 = await submit(farm, [drvs.top!]);
    const s2 = await submit(farm, [drvs.feature!]);
    await registerAgent(farm.service, 'agent-1');
    await registerAgent(farm.service, 'big', { supportedFeatures: ['big-parallel'] });
    const [a] = await requestWork(farm.service, 'agent-1', 1);
    assert.equal(a?.drvPath, drvs.a);
    await buildAndReport(farm, 'agent-1', a!);
    const bc = await requestWork(farm.service, 'agent-1', 2);
    const b = bc.find((w) => w.drvPath === drvs.b)!;
    const c = bc.find((w) => w.drvPath === drvs.c)!;
    assert.ok(b !== undefined && c !== undefined);
    assert.deepEqual(await farm.service.applyResult(result('agent-1', b, 'BUILD_STATUS_FAILED', 'b does not compile', 'error: b.c:1\n')), { accepted: true });
    const [feature] = await requestWork(farm.service, 'big', 1);
    assert.equal(feature?.drvPath, drvs.feature);
    const beforeS1 = farm.state.events(s1.submissionId, 0);
    const beforeS2 = farm.state.events(s2.submissionId, 0);

    await farm.restart();

    // Both submissions are back, not done, with their admission figures.
    const st = farm.service.status(s1.submissionId);
    assert.deepEqual(
      st.submissions!.map((s) => [s.submissionId, s.jobsTotal, s.done, s.succeeded, s.failed]),
      [[s1.submissionId, 4, false, 1, 2]],
    );
    const latest = new Map(st.jobs!.map((j) => [j.drvPath, [j.state, j.reason]]));
    assert.deepEqual(latest.get(drvs.b!), ['JOB_STATE_FAILED', 'b does not compile\n--- last log lines ---\nerror: b.c:1']);
    assert.deepEqual(latest.get(drvs.top!), ['JOB_STATE_DEPENDENCY_FAILED', `dependency failed: ${drvs.b}`]);
    assert.equal(latest.get(drvs.c!)?.[0], 'JOB_STATE_READY');
    assert.deepEqual(farm.service.status().submissions!.map((s) => s.submissionId), [s1.submissionId, s2.submissionId]);
    assert.deepEqual(farm.service.status().jobsByState, { JOB_STATE_FAILED: 1, JOB_STATE_DEPENDENCY_FAILED: 1, JOB_STATE_READY: 2 });
    // The history is intact; what the restart changed follows it (c is queued again, nothing about b or top).
    const afterS1 = farm.state.events(s1.submissionId, 0);
    assert.deepEqual(afterS1.slice(0, beforeS1.length), beforeS1);
    assert.deepEqual(
      afterS1.slice(beforeS1.length).map((e) => [e.sequence, e.drvPath, e.state]),
      [[beforeS1.length + 1, drvs.c, 'JOB_STATE_READY']],
    );
    const live = watch(farm.client, s1.submissionId);
    live.catch(() => {});

    // agent-1 comes back still running c under epoch 1: the lease is re-adopted, its result counts.
    await registerAgent(farm.service, 'agent-1', { running: [{ jobId: c.lease!.jobId, epoch: Number(c.lease!.epoch) }] });
    const hb = await farm.service.heartbeat({ agentId: 'agent-1', leases: [{ jobId: c.lease!.jobId, epoch: c.lease!.epoch }], freeSlots: 3, draining: false });
    assert.equal(hb.renewed?.length, 1);
    assert.deepEqual(await requestWork(farm.service, 'agent-1'), [], 'b stays failed and top dependency-failed: nothing to build');
    assert.deepEqual(await buildAndReport(farm, 'agent-1', c), { accepted: true });
    const events = await live;
    assert.deepEqual(events.slice(0, beforeS1.length).map((e) => Number(e.sequence)), beforeS1.map((e) => e.sequence));
    assert.deepEqual(events.map((e) => Number(e.sequence)), events.map((_, i) => i + 1));
    assert.equal(events.at(-1)?.final, true);
    assert.equal(events.at(-1)?.reason, '2 succeeded, 1 failed, 1 dependency failed');

    // `big` did not come back: feature runs again for a new agent under a higher epoch, and the
    // old epoch's result is refused.
    await registerAgent(farm.service, 'big-2', { supportedFeatures: ['big-parallel'] });
    const [again] = await requestWork(farm.service, 'big-2');
    assert.equal(again?.drvPath, drvs.feature);
    assert.ok(Number(again!.lease!.epoch) > Number(feature!.lease!.epoch));
    const stale = await farm.service.applyResult(result('big', feature!, 'BUILD_STATUS_BUILT'));
    assert.equal(stale.accepted, false);
    assert.match(String(stale.reason), /stale lease/);
    await buildAndReport(farm, 'big-2', again!);
    const e2 = await watch(farm.client, s2.submissionId);
    assert.deepEqual(e2.slice(0, beforeS2.length).map((e) => [Number(e.sequence), e.state]), beforeS2.map((e) => [e.sequence, e.state]));
    assert.equal(e2.at(-1)?.reason, '1 succeeded, 0 failed');

    // Another restart: done submissions are not replayed; history and build records stay.
    const buildsBefore = farm.service.listBuilds();
    await farm.restart();
    assert.deepEqual(farm.service.status().submissions!.map((s) => [s.submissionId, s.done]), [
      [s1.submissionId, true],
      [s2.submissionId, true],
    ]);
    assert.deepEqual(await watch(farm.client, s1.submissionId), events);
    assert.deepEqual(farm.service.listBuilds(), buildsBefore);
    assert.deepEqual(
      farm.service.listBuilds(drvs.c!).builds!.map((r) => [r.agentId, r.epoch, r.status]),
      [['agent-1', Number(c.lease!.epoch), 'built']],
    );
    // A late duplicate of an applied result is still a no-op after the restart.
    assert.deepEqual(await farm.service.applyResult(result('agent-1', c, 'BUILD_STATUS_BUILT')), { accepted: true, reason: 'already applied' });
    // Resubmitting finds the built outputs valid.
    const again2 = await submit(farm, [drvs.c!, drvs.feature!]);
    assert.deepEqual([again2.jobsTotal, again2.alreadyValid], [0, 2]);
  });
});
