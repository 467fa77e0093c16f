/**
 * A long poll parked because the agent's slots are all taken (the coordinator still counts the
 * job whose result is on its way) must wake when that result frees the slot, even if no new job
 * became ready with it. Found by the 1,000-derivation benchmark: agents sat idle for a whole
 * poll (20 s) while ready jobs queued. The poll here waits 10 minutes, so without the wake-up
 * the test runs into its own timeout and fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SubmitResponse__Output } from '@farm/proto';
import { buildAndReport, call, diamondExpression, instantiate, registerAgent, requestWork, uploadClosure, withFarm } from './service-fixtures.js';

test('a finished job wakes its agent’s parked long poll even when nothing new became ready', { timeout: 60_000 }, async () => {
  const drvs = await instantiate(diamondExpression('longpoll'), ['a', 'feature']);
  await withFarm(async (farm) => {
    await uploadClosure(farm.client, [drvs.a!, drvs.feature!]);
    await call<object, SubmitResponse__Output>(farm.client, 'Submit', { roots: [{ drvPath: drvs.a! }, { drvPath: drvs.feature! }], client: 'test' });
    await registerAgent(farm.service, 'solo', { maxJobs: 1, supportedFeatures: ['big-parallel'] });
    const [first] = await requestWork(farm.service, 'solo', 1);
    assert.ok(first);
    // The agent is done with `first` and asks for more before the coordinator has its result.
    const parked = requestWork(farm.service, 'solo', 1, 600_000);
    await buildAndReport(farm, 'solo', first);
    const [second] = await parked;
    assert.ok(second, 'the parked poll got the other ready job');
    assert.notEqual(second.drvPath, first.drvPath);
  });
});
