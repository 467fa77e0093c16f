import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readInfoLine, startNatsServer } from '@farm/testkit';
import { eventually } from '../src/index.js';

// Smoke scenario: the broker the farm depends on is SIGKILLed and comes back on the same port
// with the same JetStream store dir. Later scenarios build farm invariants on this.
test('nats-server killed with SIGKILL restarts on the same port and keeps its store', async () => {
  const nats = await startNatsServer();
  try {
    const before = JSON.parse((await readInfoLine(nats.port)).slice(5));
    await nats.kill();
    await assert.rejects(readInfoLine(nats.port), 'down after SIGKILL');
    assert.ok(existsSync(nats.storeDir), 'store dir survives the crash');
    await nats.restart();
    const after = await eventually(async () => JSON.parse((await readInfoLine(nats.port)).slice(5)), 10_000);
    assert.equal(after.port, before.port);
    assert.equal(after.jetstream, true);
  } finally {
    await nats.stop();
  }
});
