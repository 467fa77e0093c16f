/**
 * Small NARs riding inside agent messages (real nats-server, gRPC, bubblewrap, fake
 * coordinator): an input carried by the assignment is verified and used without a GetNar call,
 * a corrupted one is refused like a fetched one, and small outputs travel in the result's
 * output_nars (reference order, bytes = nix-store --dump) instead of AddPath uploads.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { dumpNarToBuffer, parseStorePath } from '@farm/nix';
import { scriptDrv } from './fixtures/build-helpers.js';
import { assignmentOf, makeInputPath, startHarness, type Harness } from './fixtures/fake-coordinator-harness.js';

let h: Harness;
before(async () => {
  h = await startHarness({ inlineOutputs: true });
});
after(async () => {
  await h?.close();
});

test('an inline input is verified and used without GetNar; small outputs ride with the result', async () => {
  const input = makeInputPath(h.tmp.path, 'inline-in', { hello: 'carried inline\n' });
  const drv = scriptDrv('/bin/mkdir $out $lib; /bin/cat $input/hello > $lib/copy; echo $lib > $out/uses-lib', {
    env: { input: input.path },
    inputSrcs: [input.path],
    outputs: ['lib', 'out'],
  });
  const { assignment, jobId } = assignmentOf(drv, [input.info]);
  h.fake.assign({ ...assignment, inputNars: [{ path: input.path, nar: input.nar }] });
  const uploadsBefore = h.fake.uploads.length;

  const { result } = await h.fake.waitForResult(jobId);
  assert.equal(result.status, 'BUILD_STATUS_BUILT', result.message);
  assert.deepEqual(h.fake.getNarCalls.filter((p) => p === input.path), [], 'no GetNar for the inline input');
  assert.equal(h.fake.uploads.length, uploadsBefore, 'no AddPath: the outputs rode with the result');
  const lib = drv.outputs.get('lib')!.path;
  const out = drv.outputs.get('out')!.path;
  assert.deepEqual(result.outputNars.map((n) => n.path), [lib, out], 'reference order');
  assert.deepEqual(result.outputs.map((o) => o.path), [lib, out]);
  for (const n of result.outputNars) {
    const local = join(h.storeRoot, parseStorePath(n.path).baseName);
    assert.ok(Buffer.from(n.nar).equals(execFileSync('nix-store', ['--dump', local])), `${n.path}: NAR = nix-store --dump`);
    assert.equal(result.outputs.find((o) => o.path === n.path)!.narHash, dumpNarToBuffer(local).narHash.toPrefixed('nix32'));
  }
});

test('a corrupted inline input is a TRANSFER_ERROR, as a corrupted fetch would be', async () => {
  const input = makeInputPath(h.tmp.path, 'inline-bad', { data: 'the real contents\n' });
  const bad = Buffer.from(input.nar);
  bad[bad.indexOf('the real contents')] = 'T'.charCodeAt(0);
  const drv = scriptDrv('/bin/cat $input/data > $out', { env: { input: input.path }, inputSrcs: [input.path] });
  const { assignment, jobId } = assignmentOf(drv, [input.info]);
  h.fake.assign({ ...assignment, inputNars: [{ path: input.path, nar: bad }] });
  const { result } = await h.fake.waitForResult(jobId);
  assert.equal(result.status, 'BUILD_STATUS_TRANSFER_ERROR');
  assert.match(result.message, /does not match/);
  assert.deepEqual(result.outputNars, []);
});
