/** Capability detection and emulation choice, over injected probes (no host access). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseEmulators, detectCapabilities, elfMachineOf, nativeSystem, parseBinfmtEntry, type BinfmtEntry } from '../src/index.js';

const probe = (arch: string, programs: string[], binfmt: BinfmtEntry[] = []) => ({
  arch,
  platform: 'linux',
  findProgram: (p: string) => (programs.includes(p) ? `/usr/bin/${p}` : undefined),
  binfmt,
});

/** What Debian's qemu-user-static registers (/usr/lib/binfmt.d/qemu-aarch64.conf), as the kernel shows it. */
const DEBIAN_AARCH64_ENTRY = `enabled
interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P
flags: POCF
offset 0
magic 7f454c460201010000000000000000000200b700
mask ffffffffffffff00fffffffffffffffffeffffff
`;
const aarch64Entry = parseBinfmtEntry('qemu-aarch64', DEBIAN_AARCH64_ENTRY)!;

test('native systems use Nix names', () => {
  assert.equal(nativeSystem('x64', 'linux'), 'x86_64-linux');
  assert.equal(nativeSystem('arm64', 'linux'), 'aarch64-linux');
  assert.throws(() => nativeSystem('mips', 'linux'), /mips/);
});

test('qemu adds aarch64-linux on x86_64 and toolchains add features', () => {
  assert.deepEqual(detectCapabilities(probe('x64', [])), { systems: ['x86_64-linux'], supportedFeatures: ['nixos-test', 'benchmark', 'big-parallel'], mandatoryFeatures: [], emulators: [] });
  const full = detectCapabilities(probe('x64', ['qemu-aarch64-static', 'musl-gcc', 'aarch64-linux-gnu-gcc']));
  assert.deepEqual(full.systems, ['x86_64-linux', 'aarch64-linux']);
  assert.deepEqual(full.supportedFeatures, ['nixos-test', 'benchmark', 'big-parallel', 'musl', 'cross-aarch64']);
  assert.deepEqual(full.emulators, [{ system: 'aarch64-linux', mode: 'qemu', interpreter: '/usr/bin/qemu-aarch64-static', fixBinary: false, elfMachine: 183, elf64: true }]);
  assert.ok(detectCapabilities({ ...probe('x64', []), hasKvm: true }).supportedFeatures.includes('kvm'));
});

test('an aarch64 host is native aarch64 and needs no cross feature or emulator', () => {
  const caps = detectCapabilities(probe('arm64', ['qemu-aarch64-static', 'aarch64-linux-gnu-gcc'], [aarch64Entry]));
  assert.deepEqual(caps.systems, ['aarch64-linux']);
  assert.deepEqual(caps.supportedFeatures, ['nixos-test', 'benchmark', 'big-parallel']);
  assert.deepEqual(caps.emulators, []);
});

test('binfmt_misc entries: an enabled magic entry parses; disabled and extension entries do not count', () => {
  assert.equal(aarch64Entry.interpreter, '/usr/libexec/qemu-binfmt/aarch64-binfmt-P');
  assert.equal(aarch64Entry.flags, 'POCF');
  assert.equal(aarch64Entry.magic.length, 20);
  assert.equal(parseBinfmtEntry('x', DEBIAN_AARCH64_ENTRY.replace('enabled', 'disabled')), undefined);
  assert.equal(parseBinfmtEntry('py', 'enabled\ninterpreter /usr/bin/python3\nflags: \nextension .pyc\n'), undefined);
  assert.equal(parseBinfmtEntry('bad', 'enabled\ninterpreter /x\nmagic zz\n'), undefined);
});

test('emulation: auto prefers binfmt, then explicit qemu; binfmt and qemu insist; off gives nothing', () => {
  const both = { nativeSystem: 'x86_64-linux', binfmt: [aarch64Entry], findProgram: (n: string) => (n === 'qemu-aarch64-static' ? '/usr/bin/qemu-aarch64-static' : undefined) };
  assert.deepEqual(
    chooseEmulators('auto', both).map((e) => [e.mode, e.interpreter, e.fixBinary]),
    [['binfmt', '/usr/libexec/qemu-binfmt/aarch64-binfmt-P', true]],
  );
  assert.deepEqual(chooseEmulators('qemu', both).map((e) => e.mode), ['qemu']);
  assert.deepEqual(chooseEmulators('off', both), []);
  const qemuOnly = { ...both, binfmt: [] };
  assert.deepEqual(chooseEmulators('auto', qemuOnly).map((e) => e.mode), ['qemu']);
  assert.throws(() => chooseEmulators('binfmt', qemuOnly), /Error: binfmt_misc has no enabled entry for aarch64-linux executables/);
  const nothing = { ...qemuOnly, findProgram: () => undefined };
  assert.deepEqual(chooseEmulators('auto', nothing), []);
  assert.throws(() => chooseEmulators('qemu', nothing), /Error: qemu-aarch64-static is not on PATH \(Debian: apt install qemu-user-static\)/);
  // An entry for another CPU (32-bit ARM) does not give aarch64.
  const arm = parseBinfmtEntry('qemu-arm', 'enabled\ninterpreter /usr/bin/qemu-arm-static\nflags: F\noffset 0\nmagic 7f454c4601010100000000000000000002002800\nmask ffffffffffffff00fffffffffffffffffeffffff\n')!;
  assert.deepEqual(chooseEmulators('auto', { ...nothing, binfmt: [arm] }), []);
});

test('ELF headers: machine and class, little- and big-endian; anything else is not ELF', () => {
  const h = new Uint8Array(20);
  h.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  h[18] = 183;
  assert.deepEqual(elfMachineOf(h), { machine: 183, elf64: true });
  h[5] = 2;
  h[18] = 0;
  h[19] = 62;
  assert.deepEqual(elfMachineOf(h), { machine: 62, elf64: true });
  assert.equal(elfMachineOf(new TextEncoder().encode('#!/bin/sh\necho hello there\n')), undefined);
  assert.equal(elfMachineOf(h.subarray(0, 10)), undefined);
});
