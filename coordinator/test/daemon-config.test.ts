/**
 * compileCoordinatorConfig: defaults as in the contract, durations written as '15s', unknown
 * keys and bad values named in the INVALID_CONFIG error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FarmError } from '@farm/common';
import { compileCoordinatorConfig } from '../src/index.js';

const invalid = (pattern: RegExp) => (e: unknown) => e instanceof FarmError && e.code === 'INVALID_CONFIG' && pattern.test(e.message);

test('defaults fill everything but the state dir', () => {
  assert.deepEqual(compileCoordinatorConfig({ stateDir: '/var/lib/farm' }), {
    stateDir: '/var/lib/farm',
    listen: '127.0.0.1:0',
    nats: { servers: ['nats://127.0.0.1:4222'] },
    leaseMs: 12_000,
    heartbeatMs: 3_000,
    maxAttempts: 3,
    retryBackoffMs: 1_000,
    retryBackoffMaxMs: 60_000,
    poisonAgents: 3,
    failureTtlMs: 3_600_000,
    maxLogBytes: 64 * 1024 * 1024,
    defaultTimeoutMs: 0,
    defaultMaxSilentMs: 0,
    logLevel: 'info',
    door: { maxBuildsPerClient: 16, maxUploadBytes: 2 * 1024 * 1024 * 1024, socket: '/var/lib/farm/nix-door.sock' },
    ssh: undefined,
    cache: undefined,
    ops: undefined,
  });
});

test('the ops endpoint (dashboard, /metrics) starts only when configured, and its address is checked', () => {
  assert.deepEqual(compileCoordinatorConfig({ stateDir: 's', ops: { listen: '0.0.0.0:9464' } }).ops, { listen: '0.0.0.0:9464' });
  assert.throws(() => compileCoordinatorConfig({ stateDir: 's', ops: { listen: 'nowhere' } }), invalid(/ops\.listen.*host:port/));
  assert.throws(() => compileCoordinatorConfig({ stateDir: 's', ops: { listen: ':1', extra: 1 } }), invalid(/extra/));
});

test('the Nix door: ssh and cache start only when configured, with their files under the state dir', () => {
  const c = compileCoordinatorConfig({
    stateDir: '/s',
    ssh: { listen: '0.0.0.0:2222', keys: { alice: { systems: ['aarch64-linux'], maxBuilds: 2 } } },
    cache: { listen: '127.0.0.1:8080' },
  });
  assert.deepEqual(c.ssh, {
    listen: '0.0.0.0:2222',
    hostKeyFile: '/s/door/ssh_host_ed25519_key',
    authorizedKeysFile: '/s/door/authorized_keys',
    keys: { alice: { systems: ['aarch64-linux'], maxBuilds: 2 } },
  });
  assert.deepEqual(c.cache, { listen: '127.0.0.1:8080', keyName: 'farm-1', secretKeyFile: '/s/door/cache-secret-key', compression: 'br', priority: 40, workDir: '/s/cache' });
  assert.throws(() => compileCoordinatorConfig({ stateDir: 's', ssh: { listen: 'nowhere' } }), invalid(/ssh\.listen|host:port/));
  assert.throws(() => compileCoordinatorConfig({ stateDir: 's', cache: { listen: ':1', compression: 'xz' } }), invalid(/compression/));
  assert.throws(() => compileCoordinatorConfig({ stateDir: 's', ssh: { listen: ':22', keys: { bob: { maxBuilds: 0 } } } }), invalid(/maxBuilds/));
});

test('retry settings: durations as text, a backoff above its cap is refused by name', () => {
  const c = compileCoordinatorConfig({ stateDir: 's', retryBackoffMs: '2s', retryBackoffMaxMs: '5m', poisonAgents: 2, failureTtlMs: '1h' });
  assert.deepEqual([c.retryBackoffMs, c.retryBackoffMaxMs, c.poisonAgents, c.failureTtlMs], [2_000, 300_000, 2, 3_600_000]);
  assert.throws(() => compileCoordinatorConfig({ stateDir: 's', retryBackoffMs: '2m', retryBackoffMaxMs: '1m' }), invalid(/retryBackoffMs must not be more than retryBackoffMaxMs/));
  assert.throws(() => compileCoordinatorConfig({ stateDir: 's', poisonAgents: 0 }), invalid(/poisonAgents/));
});

test('durations accept 15s, 500ms, 2m, 1h and plain milliseconds', () => {
  const c = compileCoordinatorConfig({
    stateDir: 's',
    listen: '0.0.0.0:7000',
    nats: { servers: ['nats://a:4222', 'nats://b:4222'] },
    leaseMs: '15s',
    heartbeatMs: '500ms',
    defaultTimeoutMs: '2m',
    defaultMaxSilentMs: 3_600_000,
    maxAttempts: 5,
    maxLogBytes: 1024,
    logLevel: 'debug',
  });
  assert.equal(c.leaseMs, 15_000);
  assert.equal(c.heartbeatMs, 500);
  assert.equal(c.defaultTimeoutMs, 120_000);
  assert.equal(c.defaultMaxSilentMs, 3_600_000);
  assert.deepEqual(c.nats.servers, ['nats://a:4222', 'nats://b:4222']);
  assert.equal(compileCoordinatorConfig({ stateDir: 's', leaseMs: '1h', heartbeatMs: '1m' }).leaseMs, 3_600_000);
});

test('unknown keys are named, also nested ones, with the source', () => {
  assert.throws(() => compileCoordinatorConfig({ stateDir: 's', leaseMS: '15s' }, 'farm.json'), invalid(/farm\.json.*unknown key 'leaseMS'/));
  assert.throws(() => compileCoordinatorConfig({ stateDir: 's', nats: { servers: ['x'], user: 'u' } }), invalid(/unknown key 'nats\.user'/));
});

test('bad values are named', () => {
  assert.throws(() => compileCoordinatorConfig({}), invalid(/stateDir/));
  assert.throws(() => compileCoordinatorConfig(undefined), invalid(/stateDir/));
  assert.throws(() => compileCoordinatorConfig({ stateDir: 's', leaseMs: '15 seconds' }), invalid(/leaseMs: expected a duration/));
  assert.throws(() => compileCoordinatorConfig({ stateDir: 's', leaseMs: 0 }), invalid(/leaseMs/));
  assert.throws(() => compileCoordinatorConfig({ stateDir: 's', listen: 'localhost' }), invalid(/listen: expected 'host:port'/));
  assert.throws(() => compileCoordinatorConfig({ stateDir: 's', nats: { servers: [] } }), invalid(/nats\.servers/));
  assert.throws(() => compileCoordinatorConfig({ stateDir: 's', maxAttempts: 0 }), invalid(/maxAttempts/));
  assert.throws(() => compileCoordinatorConfig({ stateDir: 's', logLevel: 'verbose' }), invalid(/logLevel/));
  assert.throws(() => compileCoordinatorConfig({ stateDir: 's', leaseMs: '3s', heartbeatMs: '3s' }), invalid(/heartbeatMs must be less than leaseMs/));
});
