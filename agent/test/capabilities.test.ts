import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectCapabilities, nativeSystem } from '../src/index.js';

const probe = (arch: string, programs: string[]) => ({ arch, platform: 'linux', hasProgram: (p: string) => programs.includes(p) });

test('native systems use Nix names', () => {
  assert.equal(nativeSystem('x64', 'linux'), 'x86_64-linux');
  assert.equal(nativeSystem('arm64', 'linux'), 'aarch64-linux');
  assert.throws(() => nativeSystem('mips', 'linux'), /mips/);
});

test('qemu adds aarch64-linux on x86_64 and toolchains add features', () => {
  assert.deepEqual(detectCapabilities(probe('x64', [])), { systems: ['x86_64-linux'], supportedFeatures: ['nixos-test', 'benchmark', 'big-parallel'], mandatoryFeatures: [] });
  const full = detectCapabilities(probe('x64', ['qemu-aarch64-static', 'musl-gcc', 'aarch64-linux-gnu-gcc']));
  assert.deepEqual(full.systems, ['x86_64-linux', 'aarch64-linux']);
  assert.deepEqual(full.supportedFeatures, ['nixos-test', 'benchmark', 'big-parallel', 'musl', 'cross-aarch64']);
  assert.ok(detectCapabilities({ ...probe('x64', []), hasKvm: true }).supportedFeatures.includes('kvm'));
});

test('an aarch64 host is native aarch64 and needs no cross feature', () => {
  const caps = detectCapabilities(probe('arm64', ['qemu-aarch64-static', 'aarch64-linux-gnu-gcc']));
  assert.deepEqual(caps.systems, ['aarch64-linux']);
  assert.deepEqual(caps.supportedFeatures, ['nixos-test', 'benchmark', 'big-parallel']);
});
