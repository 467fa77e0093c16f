/**
 * Small NARs riding inside agent messages, on the coordinator's side: a BuildResult's
 * output_nars are verified and stored under the result's lease before it is applied (a bad one
 * makes the attempt an infrastructure failure and stores nothing), and the next assignment
 * carries those outputs inline in input_nars, byte-identical to what GetNar serves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Assignment__Output, PathInfo__Output, SubmitResponse__Output } from '@farm/proto';
import { call, diamondExpression, fabricateOutputs, instantiate, registerAgent, requestWork, result, uploadClosure, withFarm } from './service-fixtures.js';

async function withInlineOutputs(a: Assignment__Output, corrupt = false) {
  const built = await fabricateOutputs(a);
  const outputs: PathInfo__Output[] = built.map(({ info }) => ({
    path: String(info.path),
    deriver: String(info.deriver ?? ''),
    narHash: String(info.narHash),
    narSize: String(info.narSize),
    references: [...(info.references ?? [])].map(String),
    registrationTime: '0',
    sigs: [],
    ca: '',
  }));
  const outputNars = built.map(({ info, nar }) => {
    const bytes = Buffer.from(nar);
    if (corrupt) bytes.writeUInt8(bytes.readUInt8(bytes.length - 20) ^ 1, bytes.length - 20);
    return { path: String(info.path), nar: bytes };
  });
  return { ...result('solo', a, 'BUILD_STATUS_BUILT'), outputs, outputNars };
}

async function narBytes(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

test('outputs carried by a result are stored, and ride inline in the next assignment', { timeout: 60_000 }, async () => {
  const drvs = await instantiate(diamondExpression('inline'), ['top']);
  await withFarm(async (farm) => {
    await uploadClosure(farm.client, [drvs.top!]);
    await call<object, SubmitResponse__Output>(farm.client, 'Submit', { roots: [{ drvPath: drvs.top! }], client: 'test' });
    await registerAgent(farm.service, 'solo', { maxJobs: 1 });

    const [first] = await requestWork(farm.service, 'solo', 1);
    assert.ok(first);
    const bad = await withInlineOutputs(first, true);
    assert.deepEqual(await farm.service.applyResult(bad), { accepted: true });
    for (const n of bad.outputNars) assert.equal(await farm.store.isValidPath(n.path), false, 'a corrupted inline NAR is not stored');

    // The failed attempt is retried under a new epoch; this time the NARs are right.
    const [retry] = await requestWork(farm.service, 'solo', 1);
    assert.equal(retry?.drvPath, first.drvPath);
    assert.notEqual(retry!.lease!.epoch, first.lease!.epoch);
    const good = await withInlineOutputs(retry!);
    assert.deepEqual(await farm.service.applyResult(good), { accepted: true });
    for (const n of good.outputNars) {
      assert.equal(await farm.store.isValidPath(n.path), true);
      assert.ok((await narBytes(await farm.store.narStream(n.path))).equals(n.nar));
    }
    const builds = farm.service.listBuilds(first.drvPath).builds ?? [];
    const failedAttempt = builds.find((b) => String(b.epoch) === first.lease!.epoch);
    assert.match(String(failedAttempt?.message), /outputs could not be stored: .*hash mismatch/);

    const [next] = await requestWork(farm.service, 'solo', 1);
    assert.ok(next, 'a dependent of the first job is ready');
    const carried = new Map(next.inputNars.map((n) => [n.path, Buffer.from(n.nar)]));
    for (const n of good.outputNars) {
      assert.ok(carried.get(n.path)?.equals(n.nar), `${n.path} rides inline in the dependent's assignment`);
    }
    for (const n of next.inputNars) assert.ok(next.inputs.some((i) => i.path === n.path), 'only inputs are carried');
  });
});
