/**
 * The Explain RPC over real gRPC, on real derivations: a waiting job names the inputs it waits
 * for, a job for a system no agent has names what the agents offer, a job whose fitting agent is
 * busy gives its place in the queue, a job in retry backoff says until when, a running or built
 * job names its agent and why it got it; bad requests are INVALID_ARGUMENT, unknown jobs
 * NOT_FOUND.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStorePath } from '@farm/nix';
import type { ExplainResponse__Output } from '@farm/proto';
import {
  buildAndReport,
  call,
  diamondExpression,
  DIAMOND_ATTRS,
  HOST_SYSTEM,
  instantiate,
  registerAgent,
  rejectsWith,
  requestWork,
  result,
  uploadClosure,
  withFarm,
  type TestFarm,
  submitRoots,
} from './service-fixtures.js';

const submit = (farm: TestFarm, roots: string[]) => submitRoots(farm, roots);

const explain = (farm: TestFarm, request: { drvPath?: string; jobId?: string }) => call<object, ExplainResponse__Output>(farm.client, 'Explain', request);

const jobIdOf = (drv: string) => parseStorePath(drv).hashPart;

test('Explain says what a job waits for, which agent fits, where it stands, and why it went to its agent', { timeout: 60_000 }, async () => {
  const drvs = await instantiate(diamondExpression('explain'), DIAMOND_ATTRS);
  // A long backoff, so the retried job is still backing off when it is explained.
  await withFarm(
    async (farm) => {
      await uploadClosure(farm.client, [drvs.top!, drvs.other!]);
      await submit(farm, [drvs.top!, drvs.other!]);

      // top waits for b and c, which wait for a.
      const top = await explain(farm, { drvPath: drvs.top! });
      assert.equal(top.state, 'JOB_STATE_WAITING');
      assert.equal(top.jobId, jobIdOf(drvs.top!));
      assert.equal(top.drvPath, drvs.top);
      assert.equal(top.summary, 'waiting for 2 input derivations to be built');
      assert.deepEqual(
        top.waitingFor.map((w) => [w.drvPath, w.state]).sort(),
        [
          [drvs.b!, 'JOB_STATE_WAITING'],
          [drvs.c!, 'JOB_STATE_WAITING'],
        ].sort(),
      );
      assert.equal(top.submissions.length, 1);
      assert.equal(top.position, 0);
      assert.equal(top.agentId, '');

      // a is ready, but there is nobody to build it.
      const lonely = await explain(farm, { jobId: jobIdOf(drvs.a!) });
      assert.equal(lonely.state, 'JOB_STATE_READY');
      assert.match(lonely.summary, /waiting for capacity: no agent is connected/);
      assert.deepEqual(lonely.agents, []);

      // One agent with one slot takes a: running on it, and why.
      await registerAgent(farm.service, 'x86', { maxJobs: 1 });
      const [a] = await requestWork(farm.service, 'x86', 1);
      assert.equal(a?.drvPath, drvs.a);
      const running = await explain(farm, { drvPath: drvs.a! });
      assert.equal(running.state, 'JOB_STATE_RUNNING');
      assert.equal(running.agentId, 'x86');
      assert.equal(running.epoch, a!.lease!.epoch);
      assert.match(running.summary, /^running on x86 under lease epoch \d+$/);
      assert.match(running.placement, /x86 asked for work with 1 free slot and fits/);
      assert.ok(running.details.some((d) => d.startsWith('why x86: ')));
      await buildAndReport(farm, 'x86', a!);

      // Built: still says where it ran and why.
      const built = await explain(farm, { jobId: jobIdOf(drvs.a!) });
      assert.equal(built.state, 'JOB_STATE_SUCCEEDED');
      assert.equal(built.agentId, 'x86');
      assert.equal(built.placement, running.placement);
      assert.ok(built.details.some((d) => d.startsWith('last placement: x86 asked for work')));

      // other needs riscv64-linux: the answer says what the connected agent offers instead.
      const other = await explain(farm, { drvPath: drvs.other! });
      assert.equal(other.state, 'JOB_STATE_READY');
      assert.match(other.summary, /waiting for capacity: no connected agent builds for system 'riscv64-linux'/);
      assert.ok(other.summary.includes(HOST_SYSTEM), other.summary);
      assert.deepEqual(
        other.agents.map((g) => ({ agentId: g.agentId, systems: g.systems, fits: g.fits, maxJobs: g.maxJobs, running: g.running, draining: g.draining })),
        [{ agentId: 'x86', systems: [HOST_SYSTEM], fits: false, maxJobs: 1, running: 0, draining: false }],
      );
      assert.ok(other.details.some((d) => d === `agent x86 offers ${HOST_SYSTEM}`), other.details.join('\n'));

      // b and c are ready, x86 has one slot: one runs, the other waits first in line.
      const [first] = await requestWork(farm.service, 'x86', 1);
      assert.ok(first !== undefined && (first.drvPath === drvs.b || first.drvPath === drvs.c));
      const second = first.drvPath === drvs.b ? drvs.c! : drvs.b!;
      const queued = await explain(farm, { drvPath: second });
      assert.equal(queued.state, 'JOB_STATE_READY');
      assert.equal(queued.summary, 'all 1 fitting agent is busy; it is number 1 in their queue');
      assert.equal(queued.position, 1);
      assert.deepEqual(
        queued.agents.map((g) => [g.agentId, g.fits, g.running, g.maxJobs]),
        [['x86', true, 1, 1]],
      );
      assert.ok(queued.details.includes('agent x86: 1 of 1 slots busy'));

      // An infrastructure failure: the job backs off, and the answer says until when and where it failed.
      const infra = await farm.service.applyResult(result('x86', first, 'BUILD_STATUS_SANDBOX_ERROR', 'bwrap: cannot mount /proc'));
      assert.equal(infra.accepted, true);
      const backoff = await explain(farm, { drvPath: first.drvPath });
      assert.equal(backoff.state, 'JOB_STATE_READY');
      assert.match(backoff.summary, /^backing off after an infrastructure failure until \S+ \(\d+ s\)$/);
      assert.ok(Number(backoff.backoffUntilMs) > Date.now());
      assert.deepEqual(backoff.failedAgents, ['x86']);
      assert.equal(backoff.agentId, 'x86', 'the agent of its last lease');
      assert.equal(backoff.attempts, 1);
      assert.ok(backoff.details.some((d) => d.includes('bwrap: cannot mount /proc')), backoff.details.join('\n'));
      assert.ok(backoff.details.includes('infrastructure failures on: x86'));
    },
    { options: { retry: { backoffBaseMs: 600_000, backoffCapMs: 600_000 } } },
  );
});

test('Explain refuses bad requests and names jobs it does not know', { timeout: 60_000 }, async () => {
  const drvs = await instantiate(diamondExpression('explain-bad'), DIAMOND_ATTRS);
  await withFarm(async (farm) => {
    await uploadClosure(farm.client, [drvs.a!, drvs.feature!]);
    await submit(farm, [drvs.a!]);

    await rejectsWith(explain(farm, {}), 'INVALID_ARGUMENT', /exactly one of a drv path or a job id/);
    await rejectsWith(explain(farm, { drvPath: drvs.a!, jobId: jobIdOf(drvs.a!) }), 'INVALID_ARGUMENT', /exactly one of a drv path or a job id/);
    await rejectsWith(explain(farm, { drvPath: '/nix/store/not-a-hash-x.drv' }), 'INVALID_ARGUMENT', /is not a \.drv store path/);
    await rejectsWith(explain(farm, { drvPath: drvs.a!.replace(/\.drv$/, '') }), 'INVALID_ARGUMENT', /is not a \.drv store path/);
    await rejectsWith(explain(farm, { jobId: 'hello' }), 'INVALID_ARGUMENT', /is not a job id/);

    // Stored, but never submitted: NOT_FOUND, by drv path and by job id.
    const never = escapeRegExp(drvs.feature!);
    await rejectsWith(explain(farm, { drvPath: drvs.feature! }), 'NOT_FOUND', new RegExp(`^no job for ${never}: it was never submitted, or its outputs were already valid$`));
    await rejectsWith(explain(farm, { jobId: jobIdOf(drvs.feature!) }), 'NOT_FOUND', /never submitted/);
    // The job's hash with another name is not that job.
    const renamed = drvs.a!.replace(/-svc-[^/]*\.drv$/, '-renamed.drv');
    await rejectsWith(explain(farm, { drvPath: renamed }), 'NOT_FOUND', /never submitted/);

    // The submitted one still answers.
    assert.equal((await explain(farm, { drvPath: drvs.a! })).state, 'JOB_STATE_READY');
  });
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

test('after a restart, a job that finished in the earlier run is explained from its records (by drv path and by job id)', { timeout: 60_000 }, async () => {
  const drvs = await instantiate(diamondExpression('explain-restart'), DIAMOND_ATTRS);
  await withFarm(async (farm) => {
    await uploadClosure(farm.client, [drvs.a!]);
    await submit(farm, [drvs.a!]);
    await registerAgent(farm.service, 'x86', { maxJobs: 1 });
    const [a] = await requestWork(farm.service, 'x86', 1);
    assert.equal((await buildAndReport(farm, 'x86', a!)).accepted, true);
    assert.equal((await explain(farm, { drvPath: drvs.a! })).state, 'JOB_STATE_SUCCEEDED');

    await farm.restart();
    for (const request of [{ drvPath: drvs.a! }, { jobId: jobIdOf(drvs.a!) }]) {
      const e = await explain(farm, request);
      assert.equal(e.state, 'JOB_STATE_SUCCEEDED');
      assert.equal(e.drvPath, drvs.a);
      assert.equal(e.agentId, 'x86');
      assert.match(e.summary, /^succeeded on x86 in an earlier run of the coordinator/);
      assert.ok(e.details.some((d) => /^build \(epoch \d+\) built on x86 at /.test(d)), e.details.join('\n'));
    }
    // Still NOT_FOUND for what the farm never had, and for the job's hash under another name.
    await rejectsWith(explain(farm, { drvPath: drvs.feature! }), 'NOT_FOUND', /never submitted/);
    await rejectsWith(explain(farm, { drvPath: drvs.a!.replace(/-svc-[^/]*\.drv$/, '-renamed.drv') }), 'NOT_FOUND', /never submitted/);
  });
});
