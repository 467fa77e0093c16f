/**
 * examples/cross with the real Nix, evaluation only (building it is the e2e test's job): the
 * cross-compiling derivations are x86_64-linux and require the toolchain's feature
 * (cross-aarch64 or musl), `aarch64Native.stamped` is an aarch64-linux derivation whose builder
 * is the aarch64 program `pkgsCross.aarch64.stamp` builds, and `roundTrip` reads it back on
 * x86_64-linux — so the DAG crosses x86_64 → aarch64 → x86_64. The flake exposes the same
 * derivations as default.nix.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDerivation, type Derivation } from '@farm/nix';
import { makeTempDir } from '@farm/testkit';

const exampleDir = fileURLToPath(new URL('../../../examples/cross', import.meta.url));
// GC roots for what the test instantiates, so a concurrent garbage collection cannot take a .drv
// between instantiating and reading it.
const roots = await makeTempDir('farm-eval-cross-');
after(() => roots.remove());

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { cwd: exampleDir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return r;
}
function lines(s: string): string[] {
  return s.split('\n').filter((l) => l !== '');
}
let rootCount = 0;
/** `nix-instantiate default.nix -A attr`: the .drv paths, parsed. */
function instantiate(attr: string): Map<string, Derivation> {
  const r = run('nix-instantiate', ['default.nix', '-A', attr, '--add-root', join(roots.path, `root-${rootCount++}`), '--indirect']);
  assert.equal(r.status, 0, r.stderr);
  // With --add-root, nix-instantiate prints the root symlinks; the .drv is what they point to.
  const drvPaths = lines(r.stdout).map((l) => (l.endsWith('.drv') && l.startsWith('/nix/store/') ? l : run('readlink', ['-f', l]).stdout.trim()));
  return new Map(drvPaths.map((p) => [p, parseDerivation(readFileSync(p))]));
}
/** The one derivation of `drvs` named `name` (the .drv path ends in `-<name>.drv`). */
function named(drvs: ReadonlyMap<string, Derivation>, name: string): [string, Derivation] {
  const hits = [...drvs].filter(([p]) => p.endsWith(`-${name}.drv`));
  assert.equal(hits.length, 1, `one derivation named ${name} in ${[...drvs.keys()].join(', ')}`);
  return hits[0]!;
}
function outPath(d: Derivation): string {
  const out = d.outputs.get('out');
  assert.ok(out, 'the derivation has an output named out');
  return out.path;
}
function names(drvs: ReadonlyMap<string, Derivation>): string[] {
  return [...drvs.keys()].map((p) => p.replace(/^\/nix\/store\/[0-9a-z]{32}-/, '').replace(/\.drv$/, '')).sort();
}

const aarch64 = instantiate('pkgsCross.aarch64');
const musl64 = instantiate('pkgsCross.musl64');
const native = instantiate('aarch64Native');
const roundTrip = instantiate('roundTrip');

test('pkgsCross.aarch64: x86_64-linux derivations requiring cross-aarch64 that run aarch64-linux-gnu-gcc', () => {
  assert.deepEqual(names(aarch64), ['greeter-aarch64', 'hello-aarch64', 'libgreet-aarch64', 'stamp-aarch64']);
  for (const [p, d] of aarch64) {
    assert.equal(d.system, 'x86_64-linux', p);
    assert.equal(d.env.get('requiredSystemFeatures'), 'cross-aarch64', p);
    assert.equal(d.builder, '/bin/sh', p);
    assert.equal(d.env.get('PATH'), '/usr/bin:/bin', p);
    assert.equal(d.env.get('cc'), 'aarch64-linux-gnu-gcc', p);
    assert.doesNotMatch(d.env.get('cflags') ?? '', /(^|\s)-g/, `${p}: no debug info (it would embed the build directory)`);
  }
  const [libPath, lib] = named(aarch64, 'libgreet-aarch64');
  assert.match(lib.args.join(' '), /\$ar rcsD /, 'deterministic archive');
  assert.equal(lib.env.get('ar'), 'aarch64-linux-gnu-ar');
  const [, greeter] = named(aarch64, 'greeter-aarch64');
  assert.deepEqual([...greeter.inputDrvs], [[libPath, ['out']]], 'greeter links the aarch64 libgreet');
  assert.match(greeter.args.join(' '), new RegExp(`-I${outPath(lib)}/include[\\s\\S]*-L${outPath(lib)}/lib -lgreet`));
  // The C sources are input sources of the derivations that compile them.
  assert.deepEqual(named(aarch64, 'stamp-aarch64')[1].inputSrcs.map((s) => s.replace(/^.*?-/, '')), ['stamp.c']);
  assert.deepEqual(lib.inputSrcs.map((s) => s.replace(/^.*?-/, '')).sort(), ['greet.c', 'greet.h']);
});

test('pkgsCross.musl64: x86_64-linux derivations requiring musl that run musl-gcc', () => {
  assert.deepEqual(names(musl64), ['greeter-musl', 'hello-musl', 'libgreet-musl']);
  for (const [p, d] of musl64) {
    assert.equal(d.system, 'x86_64-linux', p);
    assert.equal(d.env.get('requiredSystemFeatures'), 'musl', p);
    assert.equal(d.builder, '/bin/sh', p);
    assert.equal(d.env.get('cc'), 'musl-gcc', p);
  }
  const [libPath] = named(musl64, 'libgreet-musl');
  assert.deepEqual([...named(musl64, 'greeter-musl')[1].inputDrvs.keys()], [libPath], 'greeter links its own musl build of libgreet');
});

test('aarch64Native.stamped: an aarch64-linux derivation whose builder is the stamp program built for aarch64', () => {
  assert.deepEqual(names(native), ['stamped']);
  const [, stamped] = named(native, 'stamped');
  const [stampPath, stamp] = named(aarch64, 'stamp-aarch64');
  assert.equal(stamped.system, 'aarch64-linux');
  assert.equal(stamped.builder, `${outPath(stamp)}/bin/stamp`);
  assert.deepEqual(stamped.args, []);
  assert.deepEqual([...stamped.inputDrvs], [[stampPath, ['out']]]);
  assert.deepEqual(stamped.inputSrcs, []);
  assert.ok((stamped.env.get('message') ?? '') !== '', 'it has a message to stamp');
  assert.equal(stamped.env.get('requiredSystemFeatures'), undefined, 'any aarch64-linux machine can run it');
});

test('roundTrip: an x86_64-linux /bin/sh derivation reading stamped, so the DAG crosses x86_64 → aarch64 → x86_64', () => {
  const [, rt] = named(roundTrip, 'round-trip');
  const [stampedPath, stamped] = named(native, 'stamped');
  assert.equal(rt.system, 'x86_64-linux');
  assert.equal(rt.builder, '/bin/sh');
  assert.equal(rt.env.get('requiredSystemFeatures'), undefined);
  assert.deepEqual([...rt.inputDrvs], [[stampedPath, ['out']]]);
  assert.ok(rt.args.join(' ').includes(outPath(stamped)), 'its script reads the output of stamped');
});

test('all holds every derivation above, and the flake exposes the same ones as default.nix', () => {
  const all = instantiate('all');
  const expected = new Set([...aarch64.keys(), ...musl64.keys(), ...native.keys(), ...roundTrip.keys()]);
  assert.equal(expected.size, 9);
  assert.deepEqual(new Set(all.keys()), expected);

  // `path:` so that uncommitted changes count too (a git+file: flake sees only committed files).
  const r = run('nix', [
    '--extra-experimental-features', 'nix-command flakes',
    'eval', '--json', '--no-write-lock-file', '--option', 'substituters', '',
    `path:${exampleDir}#all`,
    '--apply', 'all: [ all.roundTrip.drvPath all.aarch64Native.stamped.drvPath ] ++ map (s: s.drvPath) (builtins.attrValues (removeAttrs all.pkgsCross.aarch64 [ "recurseForDerivations" ]) ++ builtins.attrValues (removeAttrs all.pkgsCross.musl64 [ "recurseForDerivations" ]))',
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(new Set(JSON.parse(r.stdout) as string[]), expected);
});
