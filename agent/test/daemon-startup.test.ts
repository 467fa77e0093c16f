/**
 * Starting and stopping the daemon: an agent started before the coordinator keeps trying and
 * registers once it appears; a start can be given up with a signal; an unreachable NATS fails
 * the start; leftovers of a killed run (temporary fetches, build scratch) are removed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '@farm/common';
import { freePort, makeTempDir, startNatsServer } from '@farm/testkit';
import { compileAgentConfig, startAgent, type RunningAgent } from '../src/index.js';
import { HOST_SANDBOX_PATHS } from './fixtures/build-helpers.js';
import { FakeCoordinator } from './fixtures/fake-coordinator.js';

function configFor(stateDir: string, natsUrl: string, coordinator = '127.0.0.1:1') {
  return compileAgentConfig({ name: 'startup-agent', stateDir, coordinator, nats: { servers: [natsUrl] }, maxJobs: 1, systems: ['x86_64-linux'], supportedFeatures: [], sandboxPaths: HOST_SANDBOX_PATHS });
}

test('an agent started before the coordinator registers once it appears', async () => {
  await using tmp = await makeTempDir();
  const nats = await startNatsServer();
  let fake: FakeCoordinator | undefined;
  let agent: RunningAgent | undefined;
  try {
    const starting = startAgent(configFor(join(tmp.path, 's'), nats.url), { logger: silentLogger() });
    let started = false;
    void starting.then(() => (started = true), () => undefined);
    await new Promise((r) => setTimeout(r, 1500)); // a few registration attempts with no responder
    assert.equal(started, false, 'startAgent waits for the registration');
    fake = await FakeCoordinator.start({ natsUrl: nats.url, heartbeatMs: 200 });
    agent = await starting;
    assert.equal(agent.agentId, 'startup-agent');
    assert.equal(fake.hellos.length, 1);
    await fake.until('a heartbeat', () => fake!.heartbeats.length > 0);
  } finally {
    await agent?.close();
    await fake?.close();
    await nats.stop();
  }
});

test('a start still waiting for the coordinator can be given up with a signal', async () => {
  await using tmp = await makeTempDir();
  const nats = await startNatsServer();
  try {
    const ac = new AbortController();
    const starting = startAgent(configFor(join(tmp.path, 's'), nats.url), { logger: silentLogger(), signal: ac.signal });
    setTimeout(() => ac.abort(new Error('gave up')), 300);
    await assert.rejects(starting, /gave up/);
  } finally {
    await nats.stop();
  }
});

test('an unreachable NATS fails the start', async () => {
  await using tmp = await makeTempDir();
  const port = await freePort();
  await assert.rejects(startAgent(configFor(join(tmp.path, 's'), `nats://127.0.0.1:${port}`), { logger: silentLogger() }));
});

test('leftovers of a killed run are removed at start; store paths are kept', async () => {
  await using tmp = await makeTempDir();
  const stateDir = join(tmp.path, 's');
  const store = join(stateDir, 'store');
  const work = join(stateDir, 'work');
  mkdirSync(join(store, '.fetch-0123-x'), { recursive: true });
  mkdirSync(join(work, 'build-abc', 'build'), { recursive: true });
  const kept = '00000000000000000000000000000000-kept';
  writeFileSync(join(store, kept), 'complete');
  const nats = await startNatsServer();
  const fake = await FakeCoordinator.start({ natsUrl: nats.url });
  try {
    const agent = await startAgent(configFor(stateDir, nats.url, fake.grpcAddress), { logger: silentLogger() });
    await agent.close();
    assert.deepEqual(readdirSync(store), [kept]);
    assert.ok(existsSync(work));
    assert.deepEqual(readdirSync(work), []);
  } finally {
    await fake.close();
    await nats.stop();
  }
});
