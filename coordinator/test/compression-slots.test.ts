/** The binary cache's bound on parallel compressions: never more than its size at once, waiters served in order. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CompressionSlots } from '../src/adapters/http-cache/compression-slots.js';

test('at most `size` run at once; the others wait and start in arrival order; failures free their slot', async () => {
  const slots = new CompressionSlots(2);
  let running = 0;
  let most = 0;
  const started: number[] = [];
  const releases: (() => void)[] = [];
  const jobs = Array.from({ length: 6 }, (_, i) =>
    slots.run(async () => {
      started.push(i);
      running++;
      most = Math.max(most, running);
      await new Promise<void>((resolve) => releases.push(resolve));
      running--;
      if (i === 1) throw new Error('compression failed');
      return i;
    }),
  );
  const outcomes = Promise.allSettled(jobs); // observed from the start: the failing one is expected
  const settle = () => new Promise((r) => setImmediate(r));
  await settle();
  assert.deepEqual(started, [0, 1], 'two start, four wait');
  while (releases.length > 0) {
    releases.shift()!();
    await settle();
  }
  const results = await outcomes;
  assert.equal(most, 2);
  assert.deepEqual(started, [0, 1, 2, 3, 4, 5], 'waiters started in arrival order');
  assert.equal(results[1]!.status, 'rejected', 'a failure is its caller’s');
  assert.deepEqual(results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<number>).value), [0, 2, 3, 4, 5]);
  assert.equal(await slots.run(async () => 'free again'), 'free again');
  assert.throws(() => new CompressionSlots(0), /at least 1/);
});
