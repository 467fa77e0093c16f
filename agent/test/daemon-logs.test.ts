/**
 * Build logs through the real agent into the real FARM_LOGS stream: a builder writing 100,000
 * lines (one write each) arrives complete and in order, in ≤ 64 KiB chunks numbered from 0 with
 * one eof at the end; a builder exceeding maxLogBytes gets LOG_LIMIT and its log stops at
 * exactly maxLogBytes on a chunk marked truncated.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { scriptDrv } from './fixtures/build-helpers.js';
import { assignmentOf, logText, startHarness, type Harness } from './fixtures/fake-coordinator-harness.js';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h?.close();
});

test('100,000 log lines all arrive, in order, in chunks of at most 64 KiB', async () => {
  const lines = 100_000;
  const drv = scriptDrv(`i=0; while [ $i -lt ${lines} ]; do echo "line $i of the log"; i=$((i+1)); done; echo done > $out`);
  const { assignment, jobId } = assignmentOf(drv);
  h.fake.assign(assignment);
  const { result } = await h.fake.waitForResult(jobId, '1', 60_000);
  assert.equal(result.status, 'BUILD_STATUS_BUILT', result.message);
  assert.equal(result.logTail.toString().split('\n').at(-1), `line ${lines - 1} of the log`);

  const chunks = await h.fake.readLogs(jobId, '1', 60_000);
  assert.ok(chunks.length > 1);
  assert.deepEqual(
    chunks.map((c) => c.seq),
    chunks.map((_, i) => String(i)),
  );
  assert.ok(chunks.every((c) => c.data.length <= 64 * 1024));
  assert.deepEqual(
    chunks.map((c) => c.eof),
    chunks.map((_, i) => i === chunks.length - 1),
  );
  assert.ok(chunks.every((c) => !c.truncated));
  const got = logText(chunks).split('\n');
  assert.equal(got.pop(), '');
  assert.equal(got.length, lines);
  for (let i = 0; i < lines; i++) if (got[i] !== `line ${i} of the log`) assert.fail(`line ${i} is ${JSON.stringify(got[i])}`);
});

test('a log over maxLogBytes is cut at exactly the limit on a truncated chunk; the build is LOG_LIMIT', async () => {
  const maxLogBytes = 100_000;
  const drv = scriptDrv('while true; do echo "0123456789012345678901234567890123456789"; done');
  const { assignment, jobId } = assignmentOf(drv, [], { maxLogBytes });
  h.fake.assign(assignment);
  const { result } = await h.fake.waitForResult(jobId, '1', 30_000);
  assert.equal(result.status, 'BUILD_STATUS_LOG_LIMIT');
  const chunks = await h.fake.readLogs(jobId);
  const text = logText(chunks);
  assert.equal(text.length, maxLogBytes);
  assert.ok(text.startsWith('0123456789'));
  const truncated = chunks.filter((c) => c.truncated);
  assert.equal(truncated.length, 1);
  // Only the (empty) eof chunk may follow the truncated one.
  const at = chunks.indexOf(truncated[0]!);
  assert.ok(chunks.slice(at + 1).every((c) => c.data.length === 0));
  assert.equal(chunks.at(-1)?.eof, true);
});
