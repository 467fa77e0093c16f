/**
 * The agent daemon end to end against the fake coordinator (real nats-server, real gRPC, real
 * bubblewrap): assignments in, verified inputs fetched, outputs uploaded under the lease in
 * reference order, logs with eof, and BuildResults with the protocol's msg id.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { dumpNarToBuffer, parseStorePath } from '@farm/nix';
import { resultMessageId, SUBJECTS } from '@farm/proto';
import { scriptDrv } from './fixtures/build-helpers.js';
import { assignmentOf, logText, makeInputPath, startHarness, type Harness } from './fixtures/fake-coordinator-harness.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});

test('the agent registers with its name, capabilities and version', async () => {
  const hello = await h.fake.until('a hello', () => h.fake.hellos[0]);
  assert.equal(hello.name, h.config.name);
  assert.equal(h.agent.agentId, h.config.name);
  assert.deepEqual(hello.capabilities?.systems, ['x86_64-linux']);
  assert.equal(hello.capabilities?.maxJobs, 2);
  assert.equal(hello.capabilities?.speedFactor, 1);
  assert.notEqual(hello.version, '');
  assert.notEqual(hello.host, '');
  await h.fake.until('a heartbeat', () => h.fake.heartbeats.find((b) => b.agentId === h.config.name));
  await h.fake.until('a long poll', () => h.fake.workRequests.find((w) => w.agentId === h.config.name && w.freeSlots === 2 && w.waitMs === '20000'));
});

test('an input is fetched and verified, the output built, uploaded under the lease, logged and reported BUILT', async () => {
  const input = makeInputPath(h.tmp.path, 'greeting', { hello: 'hello from the input\n' });
  const drv = scriptDrv('echo building; /bin/cat $input/hello; /bin/mkdir $out; /bin/cat $input/hello > $out/copy; echo $input > $out/ref', {
    env: { input: input.path },
    inputSrcs: [input.path],
  });
  const outPath = drv.outputs.get('out')!.path;
  const { assignment, jobId, drvPath } = assignmentOf(drv, [input.info]);
  h.fake.addNar(input.path, input.nar);
  h.fake.assign(assignment);

  const { result, msgId, subject } = await h.fake.waitForResult(jobId);
  assert.equal(result.status, 'BUILD_STATUS_BUILT', result.message);
  assert.equal(msgId, resultMessageId(jobId, 1));
  assert.equal(subject, SUBJECTS.results(h.config.name));
  assert.equal(result.agentId, h.config.name);
  assert.deepEqual(result.lease, { jobId, epoch: '1' });
  assert.ok(Number(result.stopMs) >= Number(result.startMs));

  // The input: fetched once, verified, canonical, under its base name.
  assert.deepEqual(h.fake.getNarCalls, [input.path]);
  const localInput = join(h.storeRoot, parseStorePath(input.path).baseName);
  assert.equal(dumpNarToBuffer(localInput).narHash.toPrefixed('nix32'), input.info.narHash);
  assert.equal(lstatSync(join(localInput, 'hello')).mode & 0o777, 0o444);
  assert.equal(lstatSync(join(localInput, 'hello')).mtimeMs, 1000);

  // The output: what the fake received is the NAR of the built tree, as nix-store --dump writes it.
  const [out] = result.outputs;
  assert.ok(out !== undefined);
  assert.equal(out.path, outPath);
  assert.equal(out.deriver, drvPath);
  assert.deepEqual(out.references, [input.path]);
  assert.equal(out.ca, '');
  const upload = h.fake.uploads.find((u) => u.info.path === outPath);
  assert.ok(upload !== undefined);
  assert.deepEqual(upload.lease, { jobId, epoch: '1' });
  assert.equal(upload.info.narHash, out.narHash);
  assert.equal(upload.info.narSize, out.narSize);
  const localOut = join(h.storeRoot, parseStorePath(outPath).baseName);
  const nixDump = execFileSync('nix-store', ['--dump', localOut], { maxBuffer: 64 * 1024 * 1024 });
  assert.ok(upload.nar.equals(nixDump), 'uploaded NAR = nix-store --dump of the output');
  assert.equal(dumpNarToBuffer(localOut).narHash.toPrefixed('nix32'), out.narHash);
  assert.ok(upload.chunkSizes.every((n) => n > 0 && n <= 1024 * 1024));

  // Logs: seq from 0, in order, eof last, the builder's output.
  const chunks = await h.fake.readLogs(jobId);
  assert.deepEqual(chunks.map((c) => c.seq), chunks.map((_, i) => String(i)));
  assert.deepEqual(chunks.map((c) => c.eof), chunks.map((_, i) => i === chunks.length - 1));
  assert.equal(logText(chunks), 'building\nhello from the input\n');
  assert.ok(chunks.every((c) => c.jobId === jobId && c.epoch === '1' && !c.truncated));
});

test('outputs are uploaded in reference order: an output after the outputs it refers to', async () => {
  const drv = scriptDrv('/bin/mkdir $out $lib $dev; echo lib > $lib/f; echo $lib > $out/uses-lib; echo $out $lib > $dev/uses-both', { outputs: ['dev', 'lib', 'out'] });
  const { assignment, jobId } = assignmentOf(drv);
  const before = h.fake.uploads.length;
  h.fake.assign(assignment);
  const { result } = await h.fake.waitForResult(jobId);
  assert.equal(result.status, 'BUILD_STATUS_BUILT', result.message);
  const order = h.fake.uploads.slice(before).map((u) => u.info.path);
  const p = (o: string) => drv.outputs.get(o)!.path;
  assert.deepEqual(order, [p('lib'), p('out'), p('dev')]);
  assert.deepEqual(result.outputs.map((o) => o.path), order);
  assert.deepEqual(result.outputs.find((o) => o.path === p('dev'))!.references, [p('lib'), p('out')].sort());
});

test('a corrupted input NAR is a TRANSFER_ERROR and leaves nothing in the store root', async () => {
  const input = makeInputPath(h.tmp.path, 'corrupt', { data: 'the real contents\n' });
  const bad = Buffer.from(input.nar);
  const at = bad.indexOf('the real contents');
  bad[at] = 'T'.charCodeAt(0); // same size, different hash
  h.fake.addNar(input.path, bad);
  const drv = scriptDrv('/bin/cat $input/data > $out', { env: { input: input.path }, inputSrcs: [input.path] });
  const { assignment, jobId } = assignmentOf(drv, [input.info]);
  const entriesBefore = readdirSync(h.storeRoot).sort();
  h.fake.assign(assignment);

  const { result } = await h.fake.waitForResult(jobId);
  assert.equal(result.status, 'BUILD_STATUS_TRANSFER_ERROR');
  assert.match(result.message, /does not match/);
  assert.match(result.message, new RegExp(input.path.replaceAll('.', '\\.')));
  assert.deepEqual(result.outputs, []);
  assert.deepEqual(readdirSync(h.storeRoot).sort(), entriesBefore, 'no partial or temporary entry left');
  const chunks = await h.fake.readLogs(jobId);
  assert.equal(chunks.at(-1)?.eof, true);
});

test('an input the coordinator does not have is a TRANSFER_ERROR naming it', async () => {
  const input = makeInputPath(h.tmp.path, 'missing', { x: 'x' });
  const drv = scriptDrv('/bin/cat $input/x > $out', { env: { input: input.path }, inputSrcs: [input.path] });
  const { assignment, jobId } = assignmentOf(drv, [input.info]);
  h.fake.assign(assignment);
  const { result } = await h.fake.waitForResult(jobId);
  assert.equal(result.status, 'BUILD_STATUS_TRANSFER_ERROR');
  assert.match(result.message, /not valid in the farm store/);
});

test('a failing builder is FAILED with its log tail, and its log is complete with eof', async () => {
  const drv = scriptDrv('echo "line 1"; echo "it broke" >&2; exit 3');
  const { assignment, jobId } = assignmentOf(drv);
  h.fake.assign(assignment);
  const { result } = await h.fake.waitForResult(jobId);
  assert.equal(result.status, 'BUILD_STATUS_FAILED');
  assert.match(result.message, /exit code 3/);
  assert.equal(result.logTail.toString('utf8'), 'line 1\nit broke');
  assert.deepEqual(result.outputs, []);
  const chunks = await h.fake.readLogs(jobId);
  assert.equal(logText(chunks), 'line 1\nit broke\n');
  assert.equal(chunks.at(-1)?.eof, true);
});

test('a builder that does not create its output is OUTPUT_MISSING', async () => {
  const { assignment, jobId } = assignmentOf(scriptDrv('true'));
  h.fake.assign(assignment);
  const { result } = await h.fake.waitForResult(jobId);
  assert.equal(result.status, 'BUILD_STATUS_OUTPUT_MISSING');
});

test('an upload refused as a stale lease is reported as TRANSFER_ERROR', async () => {
  const { assignment, jobId } = assignmentOf(scriptDrv('echo hi > $out'), [], { epoch: '4' });
  // AddPath refuses the upload as stale while heartbeats keep renewing the lease: a heartbeat
  // revoke would race the upload and turn the result into CANCELLED instead.
  h.fake.refuseUploadsAsStale.add(jobId);
  h.fake.assign(assignment);
  const { result } = await h.fake.waitForResult(jobId, '4');
  assert.equal(result.status, 'BUILD_STATUS_TRANSFER_ERROR');
  assert.match(result.message, /stale lease/);
  assert.ok(h.fake.refusedUploads.some((r) => r.info.path === assignment.drv!.outputs!['out']!.path));
});
