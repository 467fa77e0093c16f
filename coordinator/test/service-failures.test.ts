/**
 * What goes wrong, through the service and the gRPC API: build failures fail exactly the
 * dependents (with the failed drv and the log tail in the reasons), infrastructure failures are
 * retried under a new epoch, a drv no agent can build says so at once on Watch and runs as soon
 * as a fitting agent registers, stale leases are fenced off (uploads and results), lost agents'
 * and expired leases are requeued under higher epochs, and cancel revokes running builds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '@farm/common';
import type { BuildRecord__Output, Revoke } from '@farm/proto';
import {
  buildAndReport,
  call,
  diamondExpression,
  DIAMOND_ATTRS,
  fabricateOutputs,
  addPath,
  HOST_SYSTEM,
  instantiate,
  registerAgent,
  rejectsWith,
  requestWork,
  result,
  uploadClosure,
  watch,
  withFarm,
  type TestFarm,
  submitRoots,
} from './service-fixtures.js';

const submit = (farm: TestFarm, roots: string[]) => submitRoots(farm, roots);

test('a build failure fails exactly its dependents, with the failed drv and the log tail in the reasons', { timeout: 60_000 }, async () => {
  const drvs = await instantiate(diamondExpression('fail'), DIAMOND_ATTRS);
  await withFarm(async (farm) => {
    await uploadClosure(farm.client, [drvs.top!]);
    const sub = await submit(farm, [drvs.top!]);
    await registerAgent(farm.service, 'agent-1');
    const [a] = await requestWork(farm.service, 'agent-1');
    await buildAndReport(farm, 'agent-1', a!);
    const bc = await requestWork(farm.service, 'agent-1');
    const b = bc.find((w) => w.drvPath === drvs.b)!;
    const c = bc.find((w) => w.drvPath === drvs.c)!;

    // An infrastructure failure is retried: b goes back to the queue under a new epoch.
    const infra = await farm.service.applyResult(result('agent-1', b, 'BUILD_STATUS_SANDBOX_ERROR', 'bwrap: cannot mount /proc'));
    assert.deepEqual(infra, { accepted: true });
    const [bAgain] = await requestWork(farm.service, 'agent-1');
    assert.equal(bAgain?.drvPath, drvs.b);
    assert.ok(Number(bAgain!.lease!.epoch) > Number(b.lease!.epoch));

    const tail = 'compiling b.c\nb.c:3: error: expected ;\nmake: *** [all] Error 2\n';
    const failed = await farm.service.applyResult(result('agent-1', bAgain!, 'BUILD_STATUS_FAILED', 'builder exited with code 2', tail));
    assert.deepEqual(failed, { accepted: true });
    // c is unaffected and still succeeds.
    await buildAndReport(farm, 'agent-1', c);

    const events = await watch(farm.client, sub.submissionId);
    const last = (drv: string) => events.filter((e) => e.drvPath === drv).at(-1)!;
    assert.equal(last(drvs.a!).state, 'JOB_STATE_SUCCEEDED');
    assert.equal(last(drvs.c!).state, 'JOB_STATE_SUCCEEDED');
    assert.equal(last(drvs.b!).state, 'JOB_STATE_FAILED');
    assert.equal(last(drvs.b!).reason, `builder exited with code 2\n--- last log lines ---\n${tail.trimEnd()}`);
    assert.equal(last(drvs.top!).state, 'JOB_STATE_DEPENDENCY_FAILED');
    assert.equal(last(drvs.top!).reason, `dependency failed: ${drvs.b}`);
    const retry = events.find((e) => e.drvPath === drvs.b && e.state === 'JOB_STATE_READY' && e.reason.startsWith('retrying'));
    assert.match(String(retry?.reason), /retrying after an infrastructure failure on agent-1 \(attempt 1 of 3\).*: bwrap: cannot mount \/proc/);
    assert.equal(events.at(-1)?.reason, '2 succeeded, 1 failed, 1 dependency failed');
    assert.equal(events.at(-1)?.final, true);

    const status = farm.service.status(sub.submissionId);
    assert.deepEqual(status.submissions![0]!.failed, 2);
    assert.deepEqual(status.submissions![0]!.succeeded, 2);
    const builds = await call<object, { builds: BuildRecord__Output[] }>(farm.client, 'ListBuilds', { drvPath: drvs.b });
    assert.deepEqual(
      builds.builds.map((r) => [r.epoch, r.status]),
      [
        [b.lease!.epoch, 'sandbox-error'],
        [bAgain!.lease!.epoch, 'failed'],
      ],
    );
  });
});

test('a drv for a system no agent has says so on Watch at once and runs when a fitting agent registers', { timeout: 60_000 }, async () => {
  const drvs = await instantiate(diamondExpression('capacity'), DIAMOND_ATTRS);
  await withFarm(async (farm) => {
    await uploadClosure(farm.client, [drvs.other!, drvs.feature!]);
    await registerAgent(farm.service, 'x86');
    const sub = await submit(farm, [drvs.other!, drvs.feature!]);
    const live = farm.client.Watch({ submissionId: sub.submissionId, fromSequence: 0 });
    const seen: { state: string; drvPath: string; reason: string; agentId: string; final: boolean }[] = [];
    const pending = new Set<() => void>();
    live.on('data', (e) => {
      seen.push(e);
      for (const check of [...pending]) check();
    });
    const failed = new Promise<never>((_, reject) => live.on('error', reject));
    failed.catch(() => {});
    const waitFor = (pred: (e: (typeof seen)[number]) => boolean) =>
      Promise.race([
        failed,
        new Promise<void>((resolve) => {
          const check = () => {
            if (!seen.some(pred)) return;
            pending.delete(check);
            resolve();
          };
          pending.add(check);
          check();
        }),
      ]);
    const allDone = new Promise((resolve) => live.on('end', resolve));

    // feature: no agent offers big-parallel; other: waits for a, then nobody builds riscv64-linux.
    await waitFor((e) => e.drvPath === drvs.feature && e.state === 'JOB_STATE_READY');
    const featureReady = seen.find((e) => e.drvPath === drvs.feature && e.state === 'JOB_STATE_READY')!;
    assert.match(featureReady.reason, /waiting for capacity: .*big-parallel/);

    const [a] = await requestWork(farm.service, 'x86');
    assert.equal(a?.drvPath, drvs.a);
    await buildAndReport(farm, 'x86', a!);
    await waitFor((e) => e.drvPath === drvs.other && e.state === 'JOB_STATE_READY');
    const otherReady = seen.find((e) => e.drvPath === drvs.other && e.state === 'JOB_STATE_READY')!;
    assert.equal(otherReady.reason, `waiting for capacity: no connected agent builds for system 'riscv64-linux' (connected agents offer: ${HOST_SYSTEM})`);
    assert.deepEqual(await requestWork(farm.service, 'x86'), []);

    // A fitting agent arrives: the reason clears and it gets the job.
    await registerAgent(farm.service, 'riscv', { systems: ['riscv64-linux'] });
    const [other] = await requestWork(farm.service, 'riscv');
    assert.equal(other?.drvPath, drvs.other);
    assert.equal(other?.drv?.system, 'riscv64-linux');
    await buildAndReport(farm, 'riscv', other!);
    await registerAgent(farm.service, 'big', { supportedFeatures: ['big-parallel'] });
    const [feature] = await requestWork(farm.service, 'big');
    assert.equal(feature?.drvPath, drvs.feature);
    await buildAndReport(farm, 'big', feature!);

    await allDone;
    const otherStates = seen.filter((e) => e.drvPath === drvs.other).map((e) => [e.state, e.agentId]);
    assert.deepEqual(otherStates.slice(-2), [
      ['JOB_STATE_RUNNING', 'riscv'],
      ['JOB_STATE_SUCCEEDED', 'riscv'],
    ]);
    assert.equal(seen.at(-1)?.final, true);
    assert.equal(seen.at(-1)?.reason, '3 succeeded, 0 failed');
  });
});

test('fencing: stale uploads and results are refused; lost agents and expired leases requeue under higher epochs', { timeout: 60_000 }, async () => {
  const drvs = await instantiate(diamondExpression('fence'), DIAMOND_ATTRS);
  const clock = new ManualClock(1_000_000);
  await withFarm(
    async (farm) => {
      await uploadClosure(farm.client, [drvs.b!]);
      const sub = await submit(farm, [drvs.b!]);
      await registerAgent(farm.service, 'agent-1');
      await registerAgent(farm.service, 'agent-2');
      const [first] = await requestWork(farm.service, 'agent-1');
      assert.equal(first?.lease?.epoch, '1');

      // agent-1 goes silent for a lease period while agent-2 keeps heartbeating.
      clock.advance(10_000);
      await farm.service.heartbeat({ agentId: 'agent-2', leases: [], freeSlots: 4, draining: false });
      clock.advance(10_000);
      await farm.service.tick();
      await rejectsWith(farm.service.heartbeat({ agentId: 'agent-1', leases: [first!.lease!], freeSlots: 3, draining: false }), 'NOT_FOUND', /not registered/);
      const [second] = await requestWork(farm.service, 'agent-2');
      assert.equal(second?.drvPath, drvs.a);
      assert.ok(Number(second!.lease!.epoch) > Number(first!.lease!.epoch), `${second!.lease!.epoch} > ${first!.lease!.epoch}`);

      // The old lease can neither upload nor report.
      const [out] = await fabricateOutputs(first!);
      await rejectsWith(addPath(farm.client, out!.info, out!.nar, first!.lease!), 'FAILED_PRECONDITION', /stale lease/);
      assert.equal(await farm.store.isValidPath(out!.info.path!), false);
      const stale = await farm.service.applyResult(result('agent-1', first!, 'BUILD_STATUS_BUILT'));
      assert.equal(stale.accepted, false);
      assert.match(String(stale.reason), /stale lease/);
      // Nor can another agent use the current epoch, or an upload of a path that is not an output.
      const wrongAgent = await farm.service.applyResult(result('agent-1', second!, 'BUILD_STATUS_FAILED'));
      assert.equal(wrongAgent.accepted, false);
      assert.match(String(wrongAgent.reason), /stale lease: .* held by agent-2/);
      await rejectsWith(addPath(farm.client, { ...out!.info, path: drvs.b!.replace(/\.drv$/, '') }, out!.nar, second!.lease!), 'INVALID_ARGUMENT', /not an output/);

      // agent-2 stops renewing: its lease expires and the job is queued again under a higher epoch.
      const hb = await farm.service.heartbeat({ agentId: 'agent-2', leases: [{ jobId: second!.lease!.jobId, epoch: second!.lease!.epoch }], freeSlots: 3, draining: false });
      assert.deepEqual(hb.renewed, [{ jobId: second!.lease!.jobId, epoch: Number(second!.lease!.epoch) }]);
      clock.advance(15_001);
      await farm.service.heartbeat({ agentId: 'agent-2', leases: [], freeSlots: 4, draining: false });
      await farm.service.tick();
      const [third] = await requestWork(farm.service, 'agent-2');
      assert.equal(third?.drvPath, drvs.a);
      assert.ok(Number(third!.lease!.epoch) > Number(second!.lease!.epoch));
      const late = await farm.service.heartbeat({ agentId: 'agent-2', leases: [{ jobId: second!.lease!.jobId, epoch: second!.lease!.epoch }], freeSlots: 3, draining: false });
      assert.deepEqual(late.revoked, [{ jobId: second!.lease!.jobId, epoch: Number(second!.lease!.epoch) }]);
      assert.deepEqual(await buildAndReport(farm, 'agent-2', third!), { accepted: true });
      const [b] = await requestWork(farm.service, 'agent-2');
      assert.equal(b?.drvPath, drvs.b);
      assert.deepEqual(await buildAndReport(farm, 'agent-2', b!), { accepted: true });

      const events = await watch(farm.client, sub.submissionId);
      const reasons = events.filter((e) => e.drvPath === drvs.a && e.state === 'JOB_STATE_READY').map((e) => e.reason);
      assert.ok(reasons.some((r) => /^retrying after an infrastructure failure on agent-1 .*agent agent-1 was lost/.test(r)), reasons.join(' | '));
      assert.ok(reasons.some((r) => /^retrying after an infrastructure failure on agent-2 .*lease of agent agent-2 expired/.test(r)), reasons.join(' | '));
      const builds = farm.service.listBuilds(drvs.a!);
      assert.deepEqual(
        builds.builds!.map((r) => [r.epoch, r.agentId, r.status]),
        [[Number(third!.lease!.epoch), 'agent-2', 'built']],
      );
    },
    { clock },
  );
});

test('cancel revokes running builds, dequeues the rest, keeps what another submission needs', { timeout: 60_000 }, async () => {
  const drvs = await instantiate(diamondExpression('cancel'), DIAMOND_ATTRS);
  await withFarm(async (farm) => {
    await uploadClosure(farm.client, [drvs.top!]);
    const revokes: [string, Revoke][] = [];
    farm.service.onRevoke((agentId, r) => revokes.push([agentId, r]));
    const s1 = await submit(farm, [drvs.top!]);
    const s2 = await submit(farm, [drvs.b!]);
    await registerAgent(farm.service, 'agent-1');
    const [a] = await requestWork(farm.service, 'agent-1');
    await buildAndReport(farm, 'agent-1', a!);
    const running = await requestWork(farm.service, 'agent-1');
    assert.deepEqual(running.map((w) => w.drvPath).sort(), [drvs.b, drvs.c].sort());
    const c = running.find((w) => w.drvPath === drvs.c)!;

    const r = await call<object, { cancelled: string[]; leftRunning: Record<string, string> }>(farm.client, 'Cancel', { submissionId: s1.submissionId });
    assert.deepEqual(r.cancelled.sort(), [drvs.c, drvs.top].sort());
    assert.deepEqual(r.leftRunning, { [drvs.b!]: `still needed by submission ${s2.submissionId}` });
    assert.deepEqual(revokes, [['agent-1', { lease: { jobId: c.lease!.jobId, epoch: Number(c.lease!.epoch) }, reason: `submission ${s1.submissionId} was cancelled` }]]);
    const late = await farm.service.applyResult(result('agent-1', c, 'BUILD_STATUS_CANCELLED'));
    assert.equal(late.accepted, false);

    const e1 = await watch(farm.client, s1.submissionId);
    assert.equal(e1.at(-1)?.final, true);
    assert.equal(e1.at(-1)?.reason, 'cancelled: 1 succeeded, 0 failed, 2 cancelled');
    assert.deepEqual(
      e1.filter((e) => e.state === 'JOB_STATE_CANCELLED').map((e) => e.drvPath).sort(),
      [drvs.c, drvs.top].sort(),
    );
    // Cancelling again, or a done submission, changes nothing; an unknown one is NOT_FOUND.
    assert.deepEqual(await farm.service.cancel(s1.submissionId), { cancelled: [], leftRunning: {} });
    await rejectsWith(call(farm.client, 'Cancel', { submissionId: 'sub_nope' }), 'NOT_FOUND', /no submission sub_nope/);
    await rejectsWith(call(farm.client, 'Status', { submissionId: 'sub_nope' }), 'NOT_FOUND', /no submission/);
    await rejectsWith(watch(farm.client, 'sub_nope'), 'NOT_FOUND', /no submission/);

    // s2 still completes with b.
    const b = running.find((w) => w.drvPath === drvs.b)!;
    assert.deepEqual(await buildAndReport(farm, 'agent-1', b), { accepted: true });
    const e2 = await watch(farm.client, s2.submissionId);
    assert.equal(e2.at(-1)?.reason, '2 succeeded, 0 failed');
  });
});
