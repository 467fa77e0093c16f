/**
 * The Retry RPC over real gRPC, on real derivations (a ← {b, c} ← top, b fails): a failed build
 * is a cached failure for the next submission of the same roots (nothing is built); Retry by
 * submission, by drv path or by job id forgets it and submits anew — b and top are queued and
 * built, with the old submission's priority and limits; after a restart a done submission is
 * retried from its persisted events; a job that did not fail, a dependency-failed one (which
 * names the input to retry), unknown targets and malformed ones are refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStorePath } from '@farm/nix';
import type { RetryResponse__Output, StatusResponse__Output, SubmissionEvent__Output } from '@farm/proto';
import {
  buildAndReport,
  call,
  diamondExpression,
  DIAMOND_ATTRS,
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

const submit = (farm: TestFarm, roots: string[], extra: { priority?: number; timeoutMs?: number; maxSilentMs?: number } = {}) => submitRoots(farm, roots, extra);

const retry = (farm: TestFarm, target: string) => call<object, RetryResponse__Output>(farm.client, 'Retry', { target });

const jobIdOf = (drv: string) => parseStorePath(drv).hashPart;

async function isDone(farm: TestFarm, submissionId: string): Promise<boolean> {
  const s = await call<object, StatusResponse__Output>(farm.client, 'Status', { submissionId });
  return s.submissions[0]?.done === true;
}

/** Builds whatever the agent is given (b fails while `failB`) until the submission is done; the drvs it got. */
async function run(farm: TestFarm, submissionId: string, b: string, failB: boolean): Promise<string[]> {
  const got: string[] = [];
  while (!(await isDone(farm, submissionId))) {
    for (const w of await requestWork(farm.service, 'agent-1', 4, 200)) {
      got.push(w.drvPath);
      if (w.drvPath === b && failB) {
        const r = await farm.service.applyResult(result('agent-1', w, 'BUILD_STATUS_FAILED', 'builder exited with code 1'));
        assert.deepEqual(r, { accepted: true });
      } else {
        const r = await buildAndReport(farm, 'agent-1', w);
        assert.deepEqual(r, { accepted: true });
      }
    }
  }
  return got;
}

const lastOf = (events: readonly SubmissionEvent__Output[], drv: string) => events.filter((e) => e.drvPath === drv).at(-1);

/** The diamond uploaded, submitted (priority 5, limits set) and run with b failing: a, c built; b failed; top dependency-failed. */
async function failedDiamond(farm: TestFarm, salt: string): Promise<{ drvs: Record<string, string>; first: string }> {
  const drvs = await instantiate(diamondExpression(salt), DIAMOND_ATTRS);
  await uploadClosure(farm.client, [drvs.top!]);
  await registerAgent(farm.service, 'agent-1');
  const first = await submit(farm, [drvs.top!], { priority: 5, timeoutMs: 120_000, maxSilentMs: 30_000 });
  const got = await run(farm, first.submissionId, drvs.b!, true);
  assert.deepEqual(new Set(got), new Set([drvs.a, drvs.b, drvs.c]));
  const events = await watch(farm.client, first.submissionId);
  assert.equal(lastOf(events, drvs.b!)?.state, 'JOB_STATE_FAILED');
  assert.equal(lastOf(events, drvs.top!)?.state, 'JOB_STATE_DEPENDENCY_FAILED');
  return { drvs, first: first.submissionId };
}

test('a failed build is a cached failure; Retry of the submission builds the failed drv and its dependent again', { timeout: 60_000 }, async () => {
  await withFarm(async (farm) => {
    const { drvs, first } = await failedDiamond(farm, 'retry-sub');

    // The same roots again: the failure is reused, nothing is handed out, the submission ends failed.
    const again = await submit(farm, [drvs.top!]);
    const cached = await watch(farm.client, again.submissionId);
    assert.equal(lastOf(cached, drvs.b!)?.state, 'JOB_STATE_FAILED');
    assert.match(lastOf(cached, drvs.b!)!.reason, /^cached failure from \d+ s ago \(farm retry runs it again\): builder exited with code 1/);
    assert.equal(lastOf(cached, drvs.top!)?.state, 'JOB_STATE_DEPENDENCY_FAILED');
    assert.equal(cached.at(-1)?.final, true);
    assert.deepEqual(await requestWork(farm.service, 'agent-1', 4, 0), []);

    // Retry the first submission: b's failure is forgotten, b and top are queued and built.
    const r = await retry(farm, first);
    assert.deepEqual(r.retried, [drvs.b]);
    assert.equal(r.retryOf, first);
    assert.deepEqual(r.roots, [drvs.top]);
    assert.notEqual(r.submissionId, first);
    assert.deepEqual([r.jobsTotal, r.alreadyValid], [2, 2], "b and top to build; a and c are valid");
    const row = farm.state.getSubmission(r.submissionId)!;
    assert.deepEqual([row.client, row.priority, row.timeoutMs, row.maxSilentMs, [...row.roots]], [`retry of ${first}`, 5, 120_000, 30_000, [drvs.top]]);

    const got = await run(farm, r.submissionId, drvs.b!, false);
    assert.deepEqual(got.sort(), [drvs.b!, drvs.top!].sort());
    const events = await watch(farm.client, r.submissionId);
    assert.ok(events.some((e) => e.drvPath === drvs.b && e.state === 'JOB_STATE_READY'), 'b was queued again');
    assert.ok(events.some((e) => e.drvPath === drvs.top && e.state === 'JOB_STATE_WAITING'), 'top waited for b again');
    for (const d of [drvs.a!, drvs.b!, drvs.c!, drvs.top!]) assert.ok(['JOB_STATE_SUCCEEDED', undefined].includes(lastOf(events, d)?.state), d);
    assert.equal(lastOf(events, drvs.top!)?.state, 'JOB_STATE_SUCCEEDED');
    assert.equal(events.at(-1)?.reason.startsWith('2 succeeded'), true, events.at(-1)?.reason);

    // Nothing failed any more: a retry of the new submission has nothing to do.
    await rejectsWith(retry(farm, r.submissionId), 'FAILED_PRECONDITION', new RegExp(`^submission ${r.submissionId} has no failed jobs to retry$`));
  });
});

test('Retry of a drv path or a job id rebuilds it with the roots of the newest submission that needed it', { timeout: 60_000 }, async () => {
  await withFarm(async (farm) => {
    const { drvs, first } = await failedDiamond(farm, 'retry-drv');
    // A newer submission got the cached failure: it is the one retried.
    const newer = await submit(farm, [drvs.top!], { priority: 7 });
    await watch(farm.client, newer.submissionId);

    // top only failed because b did: it names b.
    const dep = await rejectsWith(retry(farm, drvs.top!), 'FAILED_PRECONDITION', /did not fail itself but because its input .* failed; retry that input instead/);
    assert.ok(dep.message.includes(`farm retry ${drvs.b}`), dep.message);
    // a was built: nothing to retry.
    await rejectsWith(retry(farm, drvs.a!), 'FAILED_PRECONDITION', /^job \/nix\/store\/.*-a\.drv is succeeded, not failed: only a failed job can be retried$/);

    const r = await retry(farm, jobIdOf(drvs.b!));
    assert.deepEqual(r.retried, [drvs.b]);
    assert.equal(r.retryOf, newer.submissionId);
    assert.deepEqual(r.roots, [drvs.top]);
    assert.equal(farm.state.getSubmission(r.submissionId)?.priority, 7);
    const got = await run(farm, r.submissionId, drvs.b!, true);
    assert.deepEqual(got.sort(), [drvs.b!], 'b ran again (and failed again); top did not run');
    assert.notEqual(first, r.submissionId);

    // It failed again: retry it by its drv path, and this time it builds, and top with it.
    const r2 = await retry(farm, drvs.b!);
    assert.equal(r2.retryOf, r.submissionId);
    const got2 = await run(farm, r2.submissionId, drvs.b!, false);
    assert.deepEqual(got2.sort(), [drvs.b!, drvs.top!].sort());
    assert.equal(lastOf(await watch(farm.client, r2.submissionId), drvs.top!)?.state, 'JOB_STATE_SUCCEEDED');
    await rejectsWith(retry(farm, drvs.b!), 'FAILED_PRECONDITION', /is succeeded, not failed/);
  });
});

test('after a restart a done submission is retried from its persisted events', { timeout: 60_000 }, async () => {
  await withFarm(async (farm) => {
    const { drvs, first } = await failedDiamond(farm, 'retry-restart');
    await farm.restart();
    await registerAgent(farm.service, 'agent-1');
    const r = await retry(farm, first);
    assert.deepEqual([r.retried, r.retryOf, r.roots], [[drvs.b], first, [drvs.top]]);
    const got = await run(farm, r.submissionId, drvs.b!, false);
    assert.deepEqual(got.sort(), [drvs.b!, drvs.top!].sort());
  });
});

test('Retry refuses unknown and malformed targets', { timeout: 60_000 }, async () => {
  await withFarm(async (farm) => {
    await rejectsWith(retry(farm, 'sub_nope'), 'NOT_FOUND', /^no submission sub_nope$/);
    const unknown = '/nix/store/0c5ch9zx8gqfnx5f8w2hfk3dzrz8v1yx-never-submitted.drv';
    await rejectsWith(retry(farm, unknown), 'NOT_FOUND', /^no job for \/nix\/store\/0c5ch9zx8gqfnx5f8w2hfk3dzrz8v1yx-never-submitted\.drv: it was never submitted/);
    await rejectsWith(retry(farm, '0c5ch9zx8gqfnx5f8w2hfk3dzrz8v1yx'), 'NOT_FOUND', /^no job for 0c5ch9zx8gqfnx5f8w2hfk3dzrz8v1yx/);
    await rejectsWith(retry(farm, ''), 'INVALID_ARGUMENT', /needs a target/);
    await rejectsWith(retry(farm, '/nix/store/not-a-drv'), 'INVALID_ARGUMENT', /is not a \.drv store path/);
    await rejectsWith(retry(farm, 'two words'), 'INVALID_ARGUMENT', /neither a submission id, a drv path nor a job id/);
    await rejectsWith(retry(farm, 'x'.repeat(5000)), 'INVALID_ARGUMENT', /neither a submission id/);

    // A submission whose jobs all built has no failed jobs to retry.
    const drvs = await instantiate(diamondExpression('retry-ok'), DIAMOND_ATTRS);
    await uploadClosure(farm.client, [drvs.b!]);
    await registerAgent(farm.service, 'agent-1');
    const ok = await submit(farm, [drvs.b!]);
    const [a] = await requestWork(farm.service, 'agent-1');
    await buildAndReport(farm, 'agent-1', a!);
    const [b] = await requestWork(farm.service, 'agent-1');
    await buildAndReport(farm, 'agent-1', b!);
    await watch(farm.client, ok.submissionId);
    await rejectsWith(retry(farm, ok.submissionId), 'FAILED_PRECONDITION', new RegExp(`^submission ${ok.submissionId} has no failed jobs to retry$`));
  });
});
