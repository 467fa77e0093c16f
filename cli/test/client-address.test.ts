/**
 * Coordinator discovery: --coordinator beats FARM_COORDINATOR beats address.json in --state-dir
 * (or the default state dir: FARM_STATE_DIR, XDG_STATE_HOME/farm, ~/.local/state/farm), and
 * with none of them a clear "no farm found" error; address.json round-trips.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFarmError } from '@farm/common';
import { defaultStateDir, discoverCoordinator, readAddressFile, writeAddressFile, NO_FARM_MESSAGE } from '../src/client/address.js';

function withDir(body: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'farm-addr-'));
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const file = { grpc: '127.0.0.1:5555', nats: 'nats://127.0.0.1:4222', pid: 4242, startedAt: '2024-01-02T03:04:05.000Z' };

test('the default state dir: FARM_STATE_DIR, then XDG_STATE_HOME/farm, then ~/.local/state/farm', () => {
  assert.equal(defaultStateDir({ FARM_STATE_DIR: '/s', XDG_STATE_HOME: '/x', HOME: '/h' }), '/s');
  assert.equal(defaultStateDir({ XDG_STATE_HOME: '/x', HOME: '/h' }), '/x/farm');
  assert.equal(defaultStateDir({ FARM_STATE_DIR: '', XDG_STATE_HOME: '', HOME: '/h' }), '/h/.local/state/farm');
});

test('address.json is written atomically and read back', () => {
  withDir((dir) => {
    const stateDir = join(dir, 'nested', 'state');
    writeAddressFile(stateDir, file);
    assert.deepEqual(JSON.parse(readFileSync(join(stateDir, 'address.json'), 'utf8')), file);
    assert.deepEqual(readAddressFile(stateDir), file);
    assert.equal(readAddressFile(join(dir, 'absent')), undefined);
  });
});

test('a malformed address.json is INVALID_CONFIG naming the file', () => {
  withDir((dir) => {
    writeFileSync(join(dir, 'address.json'), '{not json');
    assert.throws(() => readAddressFile(dir), (e) => isFarmError(e, 'INVALID_CONFIG') && e.message.includes(join(dir, 'address.json')));
    writeFileSync(join(dir, 'address.json'), '{"nats":"x"}');
    assert.throws(() => readAddressFile(dir), (e) => isFarmError(e, 'INVALID_CONFIG') && /grpc/.test(e.message));
  });
});

test('discovery order: flag > FARM_COORDINATOR > --state-dir address.json > default state dir', () => {
  withDir((dir) => {
    const flagDir = join(dir, 'flag');
    const defaultDir = join(dir, 'default');
    writeAddressFile(flagDir, { ...file, grpc: '127.0.0.1:1111' });
    writeAddressFile(defaultDir, { ...file, grpc: '127.0.0.1:2222' });
    const env = { FARM_STATE_DIR: defaultDir, FARM_COORDINATOR: 'farm.example:9000' };

    const a = discoverCoordinator({ flag: 'localhost:7000', stateDir: flagDir, env });
    assert.deepEqual([a.address, a.source, a.origin], ['localhost:7000', 'flag', 'from --coordinator']);

    const b = discoverCoordinator({ stateDir: flagDir, env });
    assert.deepEqual([b.address, b.source, b.origin], ['farm.example:9000', 'env', 'from FARM_COORDINATOR']);

    const c = discoverCoordinator({ stateDir: flagDir, env: { FARM_STATE_DIR: defaultDir } });
    assert.equal(c.address, '127.0.0.1:1111');
    assert.equal(c.source, 'address-file');
    assert.equal(c.pid, 4242);
    assert.match(c.origin, new RegExp(`from ${join(flagDir, 'address.json')} \\(farm up pid 4242, started 2024`));

    const d = discoverCoordinator({ env: { FARM_STATE_DIR: defaultDir } });
    assert.equal(d.address, '127.0.0.1:2222');
    assert.ok(d.origin.includes(join(defaultDir, 'address.json')));
  });
});

test('with nothing to go on, discovery fails with the "no farm found" message and where it looked', () => {
  withDir((dir) => {
    assert.throws(
      () => discoverCoordinator({ env: { FARM_STATE_DIR: dir } }),
      (e) => isFarmError(e, 'UNAVAILABLE') && e.message.startsWith(NO_FARM_MESSAGE) && e.message.includes(join(dir, 'address.json')),
    );
  });
});

test('an address that is not host:port is refused, naming where it came from', () => {
  assert.throws(() => discoverCoordinator({ flag: 'http://x', env: {} }), (e) => isFarmError(e, 'INVALID_ARGUMENT') && e.message.includes('--coordinator'));
  assert.throws(() => discoverCoordinator({ env: { FARM_COORDINATOR: 'nohost' } }), (e) => isFarmError(e, 'INVALID_ARGUMENT') && e.message.includes('FARM_COORDINATOR'));
  assert.equal(discoverCoordinator({ flag: '[::1]:9', env: {} }).address, '[::1]:9');
});
