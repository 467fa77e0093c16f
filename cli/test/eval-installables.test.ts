/**
 * Every installable form evaluated by the real Nix against examples/dag and examples/big-dag:
 * flake references (`path:dir#all`, `dir#all`, `.#all`, no fragment), `-f file -A attr` and
 * `-f file`, plain `.drv` paths; the Hydra-style walk (nested sets descended, attribute paths
 * reported, non-derivation values skipped, self-containing sets refused); and evaluation errors
 * as FarmErrors carrying Nix's own message. Results are compared with `nix-instantiate`.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isFarmError } from '@farm/common';
import { evaluateInstallable, normaliseFlakeRef, parseInstallable, rootDrvPaths, type EvaluatedRoot } from '@farm/cli';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url)).replace(/\/$/, '');
const bigDag = join(repoRoot, 'examples', 'big-dag');
const smallDag = join(repoRoot, 'examples', 'dag');
const scratch = mkdtempSync(join(tmpdir(), 'farm-eval-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function instantiate(dir: string, attr: string): string[] {
  const r = spawnSync('nix-instantiate', ['default.nix', '-A', attr], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '');
}
const evaluate = (text: string, cwd: string, file?: string) =>
  evaluateInstallable(parseInstallable(text, { cwd, ...(file !== undefined ? { file } : {}) }), { cwd });
const attrPaths = (roots: readonly EvaluatedRoot[]) => roots.map((r) => r.attrPath);

const BIG_ALL = [
  'all.chains.a', 'all.chains.b', 'all.chains.c',
  'all.diamonds.d1', 'all.diamonds.d2', 'all.diamonds.d3',
  'all.features.heavier', 'all.features.heavy',
  'all.fixed.flat', 'all.fixed.reader', 'all.fixed.recursive',
  'all.logs.chatty',
  'all.outputs.lib', 'all.outputs.useDev', 'all.outputs.useOut',
  'all.sources.seeded', 'all.summary',
];

// One flake evaluation of big-dag, shared by the tests below.
const bigFlakeAll = evaluate(`path:${bigDag}#all`, repoRoot);

test('path:dir#all walks nested sets, reports attribute paths, skips strings and recurseForDerivations', async () => {
  const roots = await bigFlakeAll;
  assert.deepEqual(attrPaths(roots), BIG_ALL);
  assert.deepEqual(rootDrvPaths(roots), instantiate(bigDag, 'all'));
  const lib = roots.find((r) => r.attrPath === 'all.outputs.lib')!;
  assert.deepEqual(Object.keys(lib.outputs).sort(), ['dev', 'out']);
  assert.match(lib.outputs['dev']!, /^\/nix\/store\/[a-z0-9]{32}-multi-lib-dev$/);
  assert.equal(lib.name, 'multi-lib');
  assert.equal(lib.system, 'x86_64-linux');
});

test('dir#all, .#all and -f default.nix -A all give the same derivations as path:', async () => {
  const expected = rootDrvPaths(await bigFlakeAll);
  assert.deepEqual(rootDrvPaths(await evaluate('examples/big-dag#all', repoRoot)), expected);
  assert.deepEqual(rootDrvPaths(await evaluate('.#all', bigDag)), expected);
  const fromFile = await evaluate('all', bigDag, 'default.nix');
  assert.deepEqual(attrPaths(fromFile), BIG_ALL);
  assert.deepEqual(rootDrvPaths(fromFile), expected);
});

test('examples/dag: flake #all, -f -A all and a single derivation attribute', async () => {
  const expected = instantiate(smallDag, 'all');
  const flake = await evaluate('.#all', smallDag);
  assert.deepEqual(attrPaths(flake), ['all.greeting', 'all.left', 'all.right', 'all.top']);
  assert.deepEqual(rootDrvPaths(flake), expected);
  assert.deepEqual(rootDrvPaths(await evaluate('all', smallDag, 'default.nix')), expected);
  const top = await evaluate('top', smallDag, 'default.nix');
  assert.deepEqual(top.map((r) => [r.attrPath, r.drvPath]), [['top', instantiate(smallDag, 'top')[0]]]);
});

test('-f file without -A calls the file with its defaults and walks everything', async () => {
  const roots = await evaluate('', bigDag, 'default.nix');
  assert.deepEqual(attrPaths(roots), [
    'aarch64.hello', ...BIG_ALL,
    'failing.broken', 'failing.dependent', 'failing.dependent2', 'failing.siblingA', 'failing.siblingB',
  ]);
  assert.equal(roots[0]!.system, 'aarch64-linux');
  // A file that is a function of no arguments (`{ }:`, as examples/cross) is called too, as nix-build does.
  const file = join(scratch, 'no-args.nix');
  writeFileSync(file, '{ }: { a = derivation { name = "a"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo > $out" ]; }; }');
  assert.deepEqual(attrPaths(await evaluate('', scratch, file)), ['a']);
});

test('a flake reference without # means its default package', async () => {
  const roots = await evaluate(`path:${bigDag}`, repoRoot);
  assert.deepEqual(rootDrvPaths(roots), instantiate(bigDag, 'all.summary'));
});

test('.drv paths are roots as they are, with their output paths from the ATerm', async () => {
  const [drvPath] = instantiate(bigDag, 'all.outputs.lib');
  const roots = await evaluateInstallable(parseInstallable(drvPath!));
  const flakeLib = (await bigFlakeAll).find((r) => r.attrPath === 'all.outputs.lib')!;
  assert.deepEqual(roots, [{ attrPath: 'multi-lib', drvPath, name: 'multi-lib', system: 'x86_64-linux', outputs: flakeLib.outputs }]);
  await assert.rejects(
    evaluateInstallable(parseInstallable('/nix/store/00000000000000000000000000000000-missing.drv')),
    (e) => isFarmError(e, 'NOT_FOUND') && /missing\.drv/.test(e.message),
  );
  assert.throws(() => parseInstallable('/tmp/not-in-store.drv'), (e) => isFarmError(e, 'INVALID_ARGUMENT'));
});

test('Hydra walk: any nesting, non-derivations skipped, odd names quoted, self-containing sets refused', async () => {
  const file = join(scratch, 'jobs.nix');
  writeFileSync(
    file,
    `let mk = name: derivation { inherit name; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo > $out" ]; };
     in rec {
       pkgsCross.aarch64 = { hello = mk "hello"; meta = "not a package"; n = 3; f = x: x; l = [ (mk "in-a-list") ]; none = null; };
       pkgsCross."x86_64.odd" = { deep.deeper.deepest = mk "deepest"; };
       loop = { self = loop; };
     }`,
  );
  const roots = await evaluate('pkgsCross', scratch, file);
  assert.deepEqual(attrPaths(roots), ['pkgsCross.aarch64.hello', 'pkgsCross."x86_64.odd".deep.deeper.deepest']);
  assert.deepEqual((await evaluate('pkgsCross.aarch64', scratch, file)).map((r) => r.name), ['hello']);
  await assert.rejects(evaluate('loop', scratch, file), (e) => isFarmError(e, 'INVALID_ARGUMENT') && /nested deeper than 32 levels/.test(e.message));
});

test('a missing attribute is a FarmError naming the installable and quoting Nix', async () => {
  await assert.rejects(evaluate(`path:${bigDag}#all.nope`, repoRoot), (e) => {
    assert.ok(isFarmError(e, 'INVALID_ARGUMENT'));
    assert.match(e.message, new RegExp(`^cannot evaluate path:${bigDag}#all\\.nope:\\nerror: flake .* does not provide attribute .*all\\.nope`));
    assert.equal(e.details['installable'], `path:${bigDag}#all.nope`);
    return true;
  });
  await assert.rejects(evaluate('all.nope', bigDag, 'default.nix'), (e) => isFarmError(e) && /attribute 'nope' in selection path 'all\.nope' not found/.test(e.message));
});

test('a syntax error and a throwing derivation are FarmErrors with Nix\'s message', async () => {
  const bad = join(scratch, 'bad.nix');
  writeFileSync(bad, '{ x = ; }\n');
  await assert.rejects(evaluate('x', scratch, bad), (e) => isFarmError(e, 'INVALID_ARGUMENT') && /-f .*bad\.nix -A x:\nerror: syntax error/.test(e.message));
  const throwing = join(scratch, 'throwing.nix');
  writeFileSync(throwing, '{ set.broken = derivation { name = "b"; system = "x86_64-linux"; builder = throw "no builder for you"; }; }\n');
  await assert.rejects(evaluate('set', scratch, throwing), (e) => isFarmError(e, 'INVALID_ARGUMENT') && /no builder for you/.test(e.message));
});

test('flake references: local directories become absolute path: refs, others pass through', () => {
  assert.equal(normaliseFlakeRef('.', '/work/x'), 'path:/work/x');
  assert.equal(normaliseFlakeRef('./sub', '/work/x'), 'path:/work/x/sub');
  assert.equal(normaliseFlakeRef('path:sub', '/work/x'), 'path:/work/x/sub');
  assert.equal(normaliseFlakeRef('path:/abs', '/work/x'), 'path:/abs');
  assert.equal(normaliseFlakeRef('examples/dag', repoRoot), `path:${smallDag}`);
  assert.equal(normaliseFlakeRef('git+file:///repo?dir=a', '/w'), 'git+file:///repo?dir=a');
  assert.equal(normaliseFlakeRef('nixpkgs', '/nonexistent'), 'nixpkgs');
  assert.deepEqual(parseInstallable('.#all', { cwd: '/w' }), { kind: 'flake', flakeRef: 'path:/w', attrPath: 'all', text: '.#all' });
  assert.deepEqual(parseInstallable('hello', { file: '<nixpkgs>', cwd: '/w' }), { kind: 'file', file: '<nixpkgs>', attrPath: 'hello', text: '-f <nixpkgs> -A hello' });
  assert.deepEqual(parseInstallable('', { file: 'x.nix', cwd: '/w' }), { kind: 'file', file: '/w/x.nix', attrPath: '', text: '-f x.nix' });
  assert.throws(() => parseInstallable('#all'), (e) => isFarmError(e, 'INVALID_ARGUMENT'));
  assert.throws(() => parseInstallable('no-such-thing', { cwd: scratch }), (e) => isFarmError(e, 'INVALID_ARGUMENT') && /not a flake reference/.test(e.message));
});
