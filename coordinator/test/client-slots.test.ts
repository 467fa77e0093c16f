import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClientSlots } from '../src/service/client-slots.js';

const tick = () => new Promise((r) => setImmediate(r));

test('at most `limit` per client, the rest wait in arrival order; other clients are not held up', async () => {
  const slots = new ClientSlots();
  const never = new AbortController().signal;
  const r1 = await slots.acquire('alice', 2, never);
  const r2 = await slots.acquire('alice', 2, never);
  const order: string[] = [];
  const third = slots.acquire('alice', 2, never).then((r) => (order.push('third'), r));
  const fourth = slots.acquire('alice', 2, never).then((r) => (order.push('fourth'), r));
  const bob = await slots.acquire('bob', 2, never);
  await tick();
  assert.deepEqual(order, [], 'alice waits while bob does not');
  assert.equal(slots.running('alice'), 2);
  r1();
  r1(); // releasing twice frees one slot only
  await tick();
  assert.deepEqual(order, ['third']);
  r2();
  await tick();
  assert.deepEqual(order, ['third', 'fourth']);
  (await third)();
  (await fourth)();
  bob();
  assert.equal(slots.running('alice'), 0);
});

test('an aborted waiter stops waiting and does not keep others out', async () => {
  const slots = new ClientSlots();
  const never = new AbortController().signal;
  const held = await slots.acquire('c', 1, never);
  const ac = new AbortController();
  const gaveUp = slots.acquire('c', 1, ac.signal);
  const next = slots.acquire('c', 1, never);
  ac.abort();
  (await gaveUp)(); // it resolves (the caller sees its signal aborted) and releases at once
  held();
  const r = await next;
  assert.equal(slots.running('c'), 1);
  r();
});
