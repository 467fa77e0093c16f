/**
 * The whole client → coordinator → agent flow without NATS: a real derivation closure from
 * nix-instantiate uploaded over gRPC (QueryMissing, then AddPath of what is missing), Submit,
 * Watch (waiting/ready, then live progress, then the final event), a fake agent that gets
 * assignments with the right BasicDerivation and input PathInfos, uploads fabricated outputs
 * under its lease over gRPC and reports BUILT; dependents become ready; a second submission
 * finds everything valid; overlapping submissions share jobs (one BuildRecord per drv).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStorePath, sha256 } from '@farm/nix';
import type { BuildRecord__Output, ListAgentsResponse__Output, StatusResponse__Output } from '@farm/proto';
import {
  buildAndReport,
  call,
  collect,
  diamondExpression,
  DIAMOND_ATTRS,
  drain,
  HOST_SYSTEM,
  instantiate,
  localPath,
  nixClosure,
  registerAgent,
  rejectsWith,
  requestWork,
  uploadClosure,
  watch,
  withFarm,
  submitRoots,
} from './service-fixtures.js';

const submit = (farm: { client: Parameters<typeof call>[0] }, roots: string[], extra: object = {}) => submitRoots(farm, roots, { client: 'test@host', ...extra });

test('upload, submit, watch, build with a fake agent, resubmit, share', { timeout: 60_000 }, async () => {
  const drvs = await instantiate(diamondExpression('flow'), DIAMOND_ATTRS);
  await withFarm(async (farm) => {
    // Only what is missing is sent, and the second time nothing is.
    const sent = await uploadClosure(farm.client, [drvs.top!]);
    assert.deepEqual(new Set(sent), new Set(nixClosure([drvs.top!])));
    assert.deepEqual(await uploadClosure(farm.client, [drvs.top!]), []);
    const info = await call<object, { version: string; storeDir: string; agents: unknown[] }>(farm.client, 'GetInfo', {});
    assert.equal(info.storeDir, '/nix/store');
    assert.deepEqual(info.agents, []);

    const sub = await submit(farm, [drvs.top!]);
    assert.equal(sub.jobsTotal, 4);
    assert.equal(sub.alreadyValid, 0);
    assert.equal(sub.shared, 0);
    const live = watch(farm.client, sub.submissionId);
    live.catch(() => {}); // awaited below; a failure before that must not be an unhandled rejection

    // Before any agent: a is ready but waiting for capacity, the rest wait for inputs.
    const early = await farm.service.status(sub.submissionId);
    assert.deepEqual(early.jobsByState, { JOB_STATE_READY: 1, JOB_STATE_WAITING: 3 });
    const readyA = early.jobs!.find((j) => j.drvPath === drvs.a);
    assert.match(String(readyA?.reason), /waiting for capacity: no agent is connected/);

    await registerAgent(farm.service, 'agent-1');
    const agents = await call<object, ListAgentsResponse__Output>(farm.client, 'ListAgents', {});
    assert.deepEqual(agents.agents.map((a) => [a.agentId, a.host, a.capabilities?.systems]), [['agent-1', 'agent-1.test', [HOST_SYSTEM]]]);

    // The first assignment is `a`, resolved as Nix's build hook would.
    const [first, ...none] = await requestWork(farm.service, 'agent-1');
    assert.equal(none.length, 0);
    assert.ok(first !== undefined);
    assert.equal(first.drvPath, drvs.a);
    assert.equal(first.lease?.jobId, parseStorePath(drvs.a!).hashPart);
    assert.equal(first.lease?.epoch, '1');
    assert.equal(first.drv?.system, HOST_SYSTEM);
    assert.equal(first.drv?.builder, '/bin/sh');
    const source = nixClosure([drvs.a!]).find((p) => p.endsWith('-svc-flow-script.sh'))!;
    assert.deepEqual(first.drv?.inputSrcs, [source]);
    assert.equal(first.drv?.env.src, source);
    assert.deepEqual(
      first.inputs.map((i) => [i.path, i.narHash, i.narSize]),
      [[source, localPath(source).info.narHash, String(localPath(source).nar.length)]],
    );
    assert.equal(first.maxLogBytes, String(1024 * 1024));

    // While `a` runs, a second agent gets nothing (b and c wait for it).
    await registerAgent(farm.service, 'agent-2');
    assert.deepEqual(await requestWork(farm.service, 'agent-2'), []);
    assert.deepEqual(await buildAndReport(farm, 'agent-1', first), { accepted: true });
    // Applying the same result again is a no-op.
    const again = await farm.service.applyResult({
      lease: first.lease!,
      agentId: 'agent-1',
      status: 'BUILD_STATUS_BUILT',
      message: '',
      outputs: [],
      logTail: Buffer.alloc(0),
      startMs: '0',
      stopMs: '0',
      outputNars: [],
    });
    assert.equal(again.accepted, true);

    // b and c are ready now; their BasicDerivation's inputSrcs is the closure of a's output.
    const second = await requestWork(farm.service, 'agent-2');
    assert.deepEqual(second.map((a) => a.drvPath).sort(), [drvs.b, drvs.c].sort());
    const aOut = Object.values(first.drv!.outputs)[0]!.path;
    for (const a of second) {
      assert.deepEqual(a.drv?.inputSrcs, [aOut]);
      assert.deepEqual(a.inputs.map((i) => i.path), [aOut]);
      assert.equal(a.inputs[0]?.deriver, drvs.a);
    }
    for (const a of second) assert.deepEqual(await buildAndReport(farm, 'agent-2', a), { accepted: true });

    // top (two outputs) last; then the submission is done.
    const [topWork] = await requestWork(farm.service, 'agent-1');
    assert.equal(topWork?.drvPath, drvs.top);
    assert.deepEqual(Object.keys(topWork!.drv!.outputs).sort(), ['doc', 'out']);
    assert.deepEqual(topWork!.drv!.inputSrcs, [...second.map((a) => Object.values(a.drv!.outputs)[0]!.path)].sort());
    await buildAndReport(farm, 'agent-1', topWork!);

    const events = await live;
    const final = events.at(-1)!;
    assert.equal(final.final, true);
    assert.equal(final.reason, '4 succeeded, 0 failed');
    assert.deepEqual(
      events.map((e) => Number(e.sequence)),
      events.map((_, i) => i + 1),
    );
    const topEvents = events.filter((e) => e.drvPath === drvs.top).map((e) => e.state);
    assert.deepEqual(topEvents, ['JOB_STATE_WAITING', 'JOB_STATE_READY', 'JOB_STATE_RUNNING', 'JOB_STATE_SUCCEEDED']);
    const topDone = events.find((e) => e.drvPath === drvs.top && e.state === 'JOB_STATE_SUCCEEDED')!;
    assert.deepEqual(topDone.outputs, Object.fromEntries(Object.entries(topWork!.drv!.outputs).map(([n, o]) => [n, o.path])));
    assert.equal(topDone.agentId, 'agent-1');
    const aEvents = events.filter((e) => e.drvPath === drvs.a).map((e) => [e.state, e.reason]);
    assert.deepEqual(aEvents[0], ['JOB_STATE_READY', 'waiting for capacity: no agent is connected (needs ' + HOST_SYSTEM + ')']);
    // The replay from the middle gives the same tail.
    assert.deepEqual(await watch(farm.client, sub.submissionId, 5), events.slice(4));
    assert.deepEqual(await watch(farm.client, sub.submissionId, 1000), []);

    const status = await call<object, StatusResponse__Output>(farm.client, 'Status', { submissionId: sub.submissionId });
    assert.deepEqual(status.jobsByState, { JOB_STATE_SUCCEEDED: 4 });
    assert.deepEqual(
      status.submissions.map((s) => [s.submissionId, s.client, s.jobsTotal, s.succeeded, s.failed, s.done, s.roots]),
      [[sub.submissionId, 'test@host', 4, 4, 0, true, [drvs.top]]],
    );

    // The outputs are in the farm store, and GetNar gives them back.
    const nar = Buffer.concat((await collect(farm.client.GetNar({ path: aOut }))).map((c) => c.data));
    assert.equal(sha256(nar).toPrefixed('nix32'), (await farm.store.getPathInfo(aOut))?.narHash.toPrefixed('nix32'));
    await assert.rejects(collect(farm.client.GetNar({ path: '/nix/store/00000000000000000000000000000000-nope' })), { code: 'NOT_FOUND' });

    // Submitting again: nothing to build, the root is reported already valid, and it is done at once.
    const resub = await submit(farm, [drvs.top!]);
    assert.deepEqual([resub.jobsTotal, resub.alreadyValid, resub.shared], [0, 1, 0]);
    const reEvents = await watch(farm.client, resub.submissionId);
    assert.deepEqual(
      reEvents.map((e) => [e.state, e.drvPath, e.final]),
      [
        ['JOB_STATE_ALREADY_VALID', drvs.top, false],
        ['JOB_STATE_UNSPECIFIED', '', true],
      ],
    );
    assert.equal(reEvents[1]?.reason, '0 succeeded, 0 failed, 1 already valid');

    const builds = await call<object, { builds: BuildRecord__Output[] }>(farm.client, 'ListBuilds', {});
    assert.equal(builds.builds.length, 4);
    for (const b of builds.builds) {
      assert.equal(b.status, 'built');
      assert.equal(b.epoch, '1');
      assert.ok(Number(b.assignedMs) >= Number(b.readyMs) && Number(b.finishedMs) >= Number(b.assignedMs), JSON.stringify(b));
    }
    const onlyTop = await call<object, { builds: BuildRecord__Output[] }>(farm.client, 'ListBuilds', { drvPath: drvs.top });
    assert.deepEqual(onlyTop.builds.map((b) => [b.drvPath, b.agentId]), [[drvs.top, 'agent-1']]);
  });
});

test('overlapping submissions share their jobs: every derivation is built once', { timeout: 60_000 }, async () => {
  const drvs = await instantiate(diamondExpression('share'), DIAMOND_ATTRS);
  await withFarm(async (farm) => {
    await uploadClosure(farm.client, [drvs.top!, drvs.feature!]);
    const s1 = await submit(farm, [drvs.b!]);
    const s2 = await submit(farm, [drvs.top!, drvs.feature!], { priority: 5 });
    assert.deepEqual([s1.jobsTotal, s1.shared], [2, 0]);
    // s2 needs a, b (shared with s1), c, top and feature.
    assert.deepEqual([s2.jobsTotal, s2.shared], [5, 2]);
    // The shared jobs are announced to s2 at once.
    const early = await farm.service.status(s2.submissionId);
    assert.deepEqual(early.jobsByState, { JOB_STATE_READY: 2, JOB_STATE_WAITING: 3 });

    await registerAgent(farm.service, 'builder', { supportedFeatures: ['big-parallel'] });
    const isDone = async (id: string) => (await farm.service.status(id)).submissions![0]!.done === true;
    const built = await drain(farm, 'builder', async () => (await isDone(s1.submissionId)) && (await isDone(s2.submissionId)));
    assert.equal(built.length, 5);

    const e1 = await watch(farm.client, s1.submissionId);
    const e2 = await watch(farm.client, s2.submissionId);
    assert.equal(e1.at(-1)?.reason, '2 succeeded, 0 failed');
    assert.equal(e2.at(-1)?.reason, '5 succeeded, 0 failed');
    // Both saw b succeed, under the same job and epoch.
    const bDone = (es: typeof e1) => es.filter((e) => e.drvPath === drvs.b && e.state === 'JOB_STATE_SUCCEEDED').map((e) => [e.jobId, e.agentId]);
    assert.deepEqual(bDone(e1), bDone(e2));
    assert.equal(bDone(e1).length, 1);

    const builds = await call<object, { builds: BuildRecord__Output[] }>(farm.client, 'ListBuilds', {});
    const perDrv = new Map<string, number>();
    for (const b of builds.builds) perDrv.set(b.drvPath, (perDrv.get(b.drvPath) ?? 0) + 1);
    assert.deepEqual([...perDrv.values()], [1, 1, 1, 1, 1]);
    assert.deepEqual(new Set(perDrv.keys()), new Set([drvs.a, drvs.b, drvs.c, drvs.top, drvs.feature]));

    const farmWide = await call<object, StatusResponse__Output>(farm.client, 'Status', {});
    assert.deepEqual(farmWide.jobsByState, { JOB_STATE_SUCCEEDED: 5 });
    assert.deepEqual(farmWide.submissions.map((s) => [s.submissionId, s.done]), [
      [s1.submissionId, true],
      [s2.submissionId, true],
    ]);
  });
});

test('a waiting long poll is woken by new work, and closing the service ends the others empty', { timeout: 60_000 }, async () => {
  const drvs = await instantiate(diamondExpression('poll'), DIAMOND_ATTRS);
  await withFarm(async (farm) => {
    await uploadClosure(farm.client, [drvs.a!]);
    await registerAgent(farm.service, 'poller');
    await registerAgent(farm.service, 'idle');
    const polling = requestWork(farm.service, 'poller', 1, 60_000);
    await submit(farm, [drvs.a!]);
    const [got] = await polling;
    assert.equal(got?.drvPath, drvs.a);
    const idle = requestWork(farm.service, 'idle', 1, 60_000);
    await farm.service.close();
    assert.deepEqual(await idle, []);
    await rejectsWith(submit(farm, [drvs.a!]), 'UNAVAILABLE', /shutting down/);
  });
});
