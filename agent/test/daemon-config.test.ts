/** compileAgentConfig: defaults, units, host-derived values, and errors that name the problem. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism, hostname } from 'node:os';
import { isFarmError } from '@farm/common';
import { AGENT_NAME_RE, compileAgentConfig, defaultAgentName, detectCapabilities, hostProbe } from '../src/index.js';

const minimal = { stateDir: '/var/lib/farm-agent', coordinator: '127.0.0.1:7420' };

test('defaults: hostname-derived name, one job per CPU, detected capabilities, local NATS', () => {
  const c = compileAgentConfig(minimal);
  assert.equal(c.name, defaultAgentName(hostname()));
  assert.match(c.name, AGENT_NAME_RE);
  assert.equal(c.stateDir, '/var/lib/farm-agent');
  assert.equal(c.coordinator, '127.0.0.1:7420');
  assert.deepEqual(c.nats, { servers: ['nats://127.0.0.1:4222'] });
  assert.equal(c.maxJobs, availableParallelism());
  assert.equal(c.cores, 0);
  assert.equal(c.speedFactor, 1);
  const detected = detectCapabilities(hostProbe());
  assert.deepEqual(c.systems, detected.systems);
  assert.deepEqual(c.supportedFeatures, detected.supportedFeatures);
  assert.deepEqual(c.mandatoryFeatures, []);
  assert.deepEqual(c.sandboxPaths, []);
  assert.equal(c.logLevel, 'info');
});

test('given values are kept', () => {
  const c = compileAgentConfig({
    ...minimal,
    name: 'builder_01-x',
    nats: { servers: ['nats://a:4222', 'nats://b:4222'] },
    maxJobs: 3,
    cores: 4,
    speedFactor: 2.5,
    systems: ['aarch64-linux'],
    supportedFeatures: ['big-parallel'],
    mandatoryFeatures: ['benchmark'],
    sandboxPaths: ['/bin', '/usr/lib?'],
    logLevel: 'debug',
  });
  assert.equal(c.name, 'builder_01-x');
  assert.deepEqual(c.nats.servers, ['nats://a:4222', 'nats://b:4222']);
  assert.equal(c.maxJobs, 3);
  assert.equal(c.cores, 4);
  assert.equal(c.speedFactor, 2.5);
  assert.deepEqual(c.systems, ['aarch64-linux']);
  assert.deepEqual(c.supportedFeatures, ['big-parallel']);
  assert.deepEqual(c.mandatoryFeatures, ['benchmark']);
  assert.deepEqual(c.sandboxPaths, ['/bin', '/usr/lib?']);
  assert.equal(c.logLevel, 'debug');
});

function configError(input: unknown): string {
  try {
    compileAgentConfig(input, 'agent.json');
  } catch (e) {
    assert.ok(isFarmError(e, 'INVALID_CONFIG'), String(e));
    return e.message;
  }
  assert.fail('expected INVALID_CONFIG');
}

test('unknown keys are named, nested ones with their path', () => {
  const m = configError({ ...minimal, maxjobs: 2, nats: { servers: ['nats://x:1'], user: 'u' } });
  assert.match(m, /agent\.json/);
  assert.match(m, /'maxjobs'/);
  assert.match(m, /'nats\.user'/);
});

test('a bad name is rejected with the allowed charset', () => {
  for (const name of ['my.host', 'a b', '', 'x'.repeat(65), 'ünïcode', 'farm.agent.>']) {
    assert.match(configError({ ...minimal, name }), /name: must be 1 to 64 characters/, name);
  }
});

test('missing and malformed required values are named', () => {
  assert.match(configError({ coordinator: '127.0.0.1:1' }), /stateDir/);
  assert.match(configError({ stateDir: '/x' }), /coordinator/);
  assert.match(configError({ ...minimal, coordinator: 'no-port' }), /coordinator: expected 'host:port'/);
  assert.match(configError({ ...minimal, maxJobs: 0 }), /maxJobs/);
  assert.match(configError({ ...minimal, cores: -1 }), /cores/);
  assert.match(configError({ ...minimal, speedFactor: 0 }), /speedFactor/);
  assert.match(configError({ ...minimal, logLevel: 'loud' }), /logLevel/);
  assert.match(configError({ ...minimal, nats: { servers: [] } }), /nats\.servers/);
  assert.match(configError('not an object'), /agent\.json/);
});

test('the default name squeezes a hostname into the allowed charset', () => {
  assert.equal(defaultAgentName('build-01.example.org'), 'build-01-example-org');
  assert.equal(defaultAgentName('..'), 'agent');
  assert.equal(defaultAgentName('x'.repeat(100)), 'x'.repeat(64));
  assert.match(defaultAgentName('ünï côdé'), AGENT_NAME_RE);
});

test('emulation: off offers the native system only; qemu insists on qemu-aarch64-static; unknown settings are named', () => {
  const off = compileAgentConfig({ ...minimal, emulation: 'off' });
  assert.deepEqual(off.systems, ['x86_64-linux']);
  assert.deepEqual(off.emulators, []);
  // This host has qemu-user-static (scripts/apt-packages.txt).
  const qemu = compileAgentConfig({ ...minimal, emulation: 'qemu' });
  assert.deepEqual(qemu.systems, ['x86_64-linux', 'aarch64-linux']);
  assert.deepEqual(qemu.emulators.map((e) => [e.system, e.mode]), [['aarch64-linux', 'qemu']]);
  // Given systems win; the emulators still say how aarch64-linux runs.
  const armOnly = compileAgentConfig({ ...minimal, systems: ['aarch64-linux'], emulation: 'qemu' });
  assert.deepEqual(armOnly.systems, ['aarch64-linux']);
  assert.equal(armOnly.emulators[0]?.mode, 'qemu');
  assert.match(configError({ ...minimal, emulation: 'rosetta' }), /emulation/);
  const withoutQemu = process.env['PATH'];
  process.env['PATH'] = '/nonexistent';
  try {
    assert.match(configError({ ...minimal, emulation: 'qemu' }), /invalid agent\.json: emulation 'qemu': qemu-aarch64-static is not on PATH/);
  } finally {
    process.env['PATH'] = withoutQemu;
  }
});
