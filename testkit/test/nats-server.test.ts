import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { makeTempDir, readInfoLine, startNatsServer } from '../src/index.js';

test('a real nats-server starts with JetStream on a free loopback port and stops cleanly', async () => {
  const nats = await startNatsServer();
  try {
    const info = JSON.parse((await readInfoLine(nats.port)).replace(/^INFO /, ''));
    assert.equal(info.port, nats.port);
    assert.equal(info.jetstream, true);
    assert.match(nats.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
  } finally {
    await nats.stop();
  }
  await assert.rejects(readInfoLine(nats.port));
  assert.equal(existsSync(nats.storeDir), false, 'the temp store is removed');
});

test('temp dirs are removed by dispose', async () => {
  const dir = await makeTempDir();
  assert.ok(existsSync(dir.path));
  await dir[Symbol.asyncDispose]();
  assert.equal(existsSync(dir.path), false);
});
