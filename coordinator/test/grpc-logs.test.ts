/**
 * The Logs RPC over an in-memory LogSource: without follow it returns the stored chunks; with
 * follow it streams live chunks and ends once the job is finished and the eof of its last
 * attempt was sent (in either order of eof and result), at once for a job that never ran, and
 * after a grace period when a finished job's eof never comes. Jobs are found by drv path, job id
 * or drv basename — also after a restart; unknown ones are NOT_FOUND.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import type { LogChunk__Output } from '@farm/proto';
import {
  buildAndReport,
  call,
  collect,
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

const submit = (farm: TestFarm, roots: string[]) => submitRoots(farm, roots, { client: 'logs-test' });

const logs = (farm: TestFarm, req: { drvPath?: string; jobId?: string; follow?: boolean }) => collect<LogChunk__Output>(farm.client.Logs(req));
const text = (chunks: LogChunk__Output[]) => chunks.map((c) => `${c.epoch}/${c.seq}:${c.data.toString()}${c.eof ? '<eof>' : ''}`);

test('Logs: stored chunks, follow to the eof of a finished job, jobs that never ran, unknown jobs', { timeout: 60_000 }, async () => {
  const drvs = await instantiate(diamondExpression('logs'), DIAMOND_ATTRS);
  await withFarm(
    async (farm) => {
      await uploadClosure(farm.client, [drvs.top!]);
      const sub = await submit(farm, [drvs.top!]);
      await registerAgent(farm.service, 'agent-1');
      const [a] = await requestWork(farm.service, 'agent-1');
      const jobA = a!.lease!.jobId;

      // Follow while it runs: live chunks arrive; the eof alone does not end it (still running)…
      const followed = logs(farm, { drvPath: drvs.a!, follow: true });
      followed.catch(() => {});
      farm.logs.append({ jobId: jobA, epoch: 1, seq: 0, data: 'building a\n' });
      farm.logs.append({ jobId: jobA, epoch: 1, seq: 1, data: 'done\n', eof: true });
      // …the accepted result does.
      await buildAndReport(farm, 'agent-1', a!);
      assert.deepEqual(text(await followed), ['1/0:building a\n', '1/1:done\n<eof>']);

      // Without follow: the stored chunks, by drv path, job id or basename.
      farm.logs.append({ jobId: jobA, epoch: 2, seq: 0, data: 'never mind' });
      const expected = ['1/0:building a\n', '1/1:done\n<eof>', '2/0:never mind'];
      assert.deepEqual(text(await logs(farm, { drvPath: drvs.a! })), expected);
      assert.deepEqual(text(await logs(farm, { jobId: jobA })), expected);
      assert.deepEqual(text(await logs(farm, { drvPath: basename(drvs.a!) })), expected);
      // Follow of a finished job whose last attempt's eof is stored: the history, then the end.
      assert.deepEqual(text(await logs(farm, { drvPath: drvs.a!, follow: true })), expected);

      // Result first, eof later: the stream waits for the eof.
      const bc = await requestWork(farm.service, 'agent-1');
      const b = bc.find((w) => w.drvPath === drvs.b)!;
      const c = bc.find((w) => w.drvPath === drvs.c)!;
      const followB = logs(farm, { jobId: b.lease!.jobId, follow: true });
      followB.catch(() => {});
      farm.logs.append({ jobId: b.lease!.jobId, epoch: 1, seq: 0, data: 'b fails\n' });
      await farm.service.applyResult(result('agent-1', b, 'BUILD_STATUS_FAILED', 'exit 1'));
      farm.logs.append({ jobId: b.lease!.jobId, epoch: 1, seq: 1, data: '', eof: true });
      assert.deepEqual(text(await followB), ['1/0:b fails\n', '1/1:<eof>']);

      // top never ran (dependency failed): follow ends at once.
      await buildAndReport(farm, 'agent-1', c);
      assert.equal((await watch(farm.client, sub.submissionId)).at(-1)?.final, true);
      assert.deepEqual(await logs(farm, { drvPath: drvs.top!, follow: true }), []);

      // Unknown and malformed.
      await rejectsWith(logs(farm, { jobId: '0'.repeat(32) }), 'NOT_FOUND', /no job/);
      await rejectsWith(logs(farm, { drvPath: drvs.other! }), 'NOT_FOUND', /no job/);
      await rejectsWith(logs(farm, { drvPath: 'not a drv' }), 'INVALID_ARGUMENT', /neither a job id nor a derivation path/);
      await rejectsWith(logs(farm, {}), 'INVALID_ARGUMENT', /drv path or a job id/);

      // After a restart the finished jobs' logs are still found.
      await farm.restart();
      assert.deepEqual(text(await logs(farm, { jobId: jobA, follow: true })), expected);
    },
    { logEofGraceMs: 60_000 },
  );
});

test('Logs follow ends after the grace period when a finished job’s eof never comes', { timeout: 60_000 }, async () => {
  const drvs = await instantiate(diamondExpression('logs-grace'), DIAMOND_ATTRS);
  await withFarm(
    async (farm) => {
      await uploadClosure(farm.client, [drvs.a!]);
      const sub = await submit(farm, [drvs.a!]);
      await registerAgent(farm.service, 'agent-1');
      const [a] = await requestWork(farm.service, 'agent-1');
      farm.logs.append({ jobId: a!.lease!.jobId, epoch: 1, seq: 0, data: 'started\n' });
      const followed = logs(farm, { drvPath: drvs.a!, follow: true });
      followed.catch(() => {});
      // Cancelled while running, and the agent never publishes its eof.
      await call(farm.client, 'Cancel', { submissionId: sub.submissionId });
      assert.deepEqual(text(await followed), ['1/0:started\n']);
    },
    { logEofGraceMs: 300 },
  );
});

test('a client that cancels Logs -f or Watch ends the server side of the stream', { timeout: 60_000 }, async () => {
  const drvs = await instantiate(diamondExpression('logs-cancel'), DIAMOND_ATTRS);
  await withFarm(async (farm) => {
    await uploadClosure(farm.client, [drvs.a!]);
    const sub = await submit(farm, [drvs.a!]);
    await registerAgent(farm.service, 'agent-1');
    const [a] = await requestWork(farm.service, 'agent-1');
    farm.logs.append({ jobId: a!.lease!.jobId, epoch: 1, seq: 0, data: 'first\n' });
    const follow = farm.client.Logs({ drvPath: drvs.a!, follow: true });
    const watching = farm.client.Watch({ submissionId: sub.submissionId, fromSequence: 0 });
    const ended = (s: typeof follow | typeof watching) => new Promise<unknown>((resolve) => s.on('error', resolve).on('end', () => resolve('end')));
    const followEnded = ended(follow);
    const watchEnded = ended(watching);
    await new Promise((resolve) => follow.once('data', resolve));
    await new Promise((resolve) => watching.once('data', resolve));
    follow.cancel();
    watching.cancel();
    assert.match(String(await followEnded), /Cancelled/);
    assert.match(String(await watchEnded), /Cancelled/);
    // The server let go of the log read, and the farm carries on.
    while (farm.logs.active > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(await buildAndReport(farm, 'agent-1', a!), { accepted: true });
    assert.equal((await watch(farm.client, sub.submissionId)).at(-1)?.reason, '1 succeeded, 0 failed');
  });
});

test('closing the gRPC server ends open Watch and Logs -f streams with UNAVAILABLE', { timeout: 60_000 }, async () => {
  const drvs = await instantiate(diamondExpression('logs-close'), DIAMOND_ATTRS);
  await withFarm(async (farm) => {
    await uploadClosure(farm.client, [drvs.a!]);
    const sub = await submit(farm, [drvs.a!]);
    await registerAgent(farm.service, 'agent-1');
    await requestWork(farm.service, 'agent-1');
    const stream = farm.client.Watch({ submissionId: sub.submissionId, fromSequence: 0 });
    const watching = collect(stream);
    const following = logs(farm, { drvPath: drvs.a!, follow: true });
    watching.catch(() => {});
    following.catch(() => {});
    // Both streams are open once the first event arrived and the log read started.
    await new Promise((resolve) => stream.once('data', resolve));
    while (farm.logs.active === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await farm.grpc.close();
    await rejectsWith(watching, 'UNAVAILABLE', /shutting down/);
    await rejectsWith(following, 'UNAVAILABLE', /shutting down/);
  });
});
