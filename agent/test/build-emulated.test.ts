/**
 * Builders of an emulated system (aarch64-linux on this x86_64 host) in the real bwrap sandbox:
 * an aarch64 builder binary runs under qemu-aarch64-static started explicitly by the agent, or
 * transparently through binfmt_misc; a builder the host runs natively (/bin/sh) runs as is.
 * The builder is a static aarch64 program compiled here with Debian's cross compiler.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureAarch64Binfmt } from '@farm/testkit';
import type { BasicDerivation } from '@farm/nix';
import { chooseEmulators, emulatedCommand, hostProbe, QEMU_DIR, readBinfmtEntries, type Emulator } from '../src/index.js';
import { fakeStorePath, makeScratch, runBuild, scriptDrv, type Scratch } from './fixtures/build-helpers.js';

const STAMP_C = fileURLToPath(new URL('../../test/fixtures/stamp.c', import.meta.url));
const T = { timeout: 60_000 };

function emulatorFor(setting: 'qemu' | 'binfmt'): Emulator {
  const probe = hostProbe();
  const [e] = chooseEmulators(setting, { nativeSystem: 'x86_64-linux', binfmt: readBinfmtEntries(), findProgram: (n) => probe.findProgram(n) });
  assert.ok(e !== undefined && e.system === 'aarch64-linux');
  return e;
}

/** Compiles the stamp builder into a store path of the scratch store; returns that path. */
function stampInStore(s: Scratch): string {
  const path = fakeStorePath('stamp');
  mkdirSync(join(s.storeRoot, basename(path), 'bin'), { recursive: true });
  execFileSync('aarch64-linux-gnu-gcc', ['-static', '-O2', '-o', join(s.storeRoot, basename(path), 'bin', 'stamp'), STAMP_C]);
  return path;
}

function aarch64Drv(stamp: string, message: string): BasicDerivation {
  const base = scriptDrv('', { env: { message }, inputSrcs: [stamp] });
  const env = new Map(base.env);
  env.set('system', 'aarch64-linux');
  env.set('builder', `${stamp}/bin/stamp`);
  return { ...base, system: 'aarch64-linux', builder: `${stamp}/bin/stamp`, args: [], env };
}

async function buildStamp(s: Scratch, emulator: Emulator | undefined, message: string) {
  const stamp = stampInStore(s);
  const drv = aarch64Drv(stamp, message);
  const r = await runBuild(s, drv, { inputClosure: [stamp], emulator });
  return { r, out: drv.outputs.get('out')!.path };
}

test('explicit qemu: an aarch64 builder runs under qemu-aarch64-static bound into the sandbox', T, async () => {
  const s = makeScratch();
  try {
    const qemu = emulatorFor('qemu');
    assert.equal(qemu.mode, 'qemu');
    const { r, out } = await buildStamp(s, qemu, 'hello through qemu');
    assert.equal(r.status, 'built', `${r.message}\n${r.log}`);
    assert.match(r.log, /^stamp: wrote \/nix\/store\/.*-probe\n$/);
    assert.equal(readFileSync(join(s.storeRoot, basename(out)), 'utf8'), 'hello through qemu\nbuilt by an aarch64 builder\n');
    // The command itself (binfmt may be registered too, by another test, so the build alone
    // would not show which way it ran).
    const stamp = stampInStore(s);
    const hostPathOf = (p: string) => (p.startsWith(`${stamp}/`) ? join(s.storeRoot, basename(stamp), p.slice(stamp.length + 1)) : p);
    assert.deepEqual(emulatedCommand(qemu, `${stamp}/bin/stamp`, ['a'], hostPathOf), {
      builder: `${QEMU_DIR}/qemu-aarch64-static`,
      args: [`${stamp}/bin/stamp`, 'a'],
      binds: [{ source: qemu.interpreter, target: `${QEMU_DIR}/qemu-aarch64-static` }],
    });
    assert.deepEqual(emulatedCommand(qemu, '/bin/sh', ['-c', 'true'], hostPathOf), { builder: '/bin/sh', args: ['-c', 'true'], binds: [] });
    assert.deepEqual(emulatedCommand(qemu, '/nonexistent', [], hostPathOf).builder, '/nonexistent');
  } finally {
    s.remove();
  }
});

test('explicit qemu: a builder the host runs natively (/bin/sh) runs as is for an aarch64-linux derivation', T, async () => {
  const s = makeScratch();
  try {
    const drv = scriptDrv('echo "native sh, system $system" > $out');
    const asAarch64 = { ...drv, system: 'aarch64-linux', env: new Map([...drv.env, ['system', 'aarch64-linux']]) };
    const r = await runBuild(s, asAarch64, { emulator: emulatorFor('qemu') });
    assert.equal(r.status, 'built', r.message);
    assert.equal(readFileSync(join(s.storeRoot, basename(drv.outputs.get('out')!.path)), 'utf8'), 'native sh, system aarch64-linux\n');
  } finally {
    s.remove();
  }
});

test('binfmt: with the kernel running aarch64 executables through qemu, the builder runs as is', T, async () => {
  ensureAarch64Binfmt();
  const s = makeScratch();
  try {
    const binfmt = emulatorFor('binfmt');
    assert.equal(binfmt.mode, 'binfmt');
    assert.equal(binfmt.fixBinary, true, "Debian's entry has the F flag: no interpreter inside the sandbox needed");
    const { r, out } = await buildStamp(s, binfmt, 'hello through binfmt');
    assert.equal(r.status, 'built', `${r.message}\n${r.log}`);
    assert.equal(readFileSync(join(s.storeRoot, basename(out)), 'utf8'), 'hello through binfmt\nbuilt by an aarch64 builder\n');
    // Without the F flag the interpreter is bound at its own path inside the sandbox.
    const { r: r2 } = await buildStamp(s, { ...binfmt, fixBinary: false }, 'again');
    assert.equal(r2.status, 'built', r2.message);
  } finally {
    s.remove();
  }
});
