/**
 * The upload bundle against the real local store: for examples/big-dag (all + failing + aarch64)
 * it is exactly the `nix-store -qR` closure of the roots, dependency-first, with kinds, narHash,
 * narSize and references equal to what nix-store reports, NARs streamed by the nix library that
 * hash to narHash, and the ATerm bytes of each drv. A generated DAG of 1,200 derivations goes
 * through several batched `nix path-info` calls. A `.drv`-named store path whose contents do not
 * belong to its path is refused, naming it. dependencyOrder's own rules are checked directly.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isFarmError } from '@farm/common';
import { Hash } from '@farm/nix';
import {
  buildUploadBundle,
  bundleItemPathInfo,
  bundleNarChunks,
  dependencyOrder,
  evaluateInstallable,
  openBundleNar,
  parseInstallable,
  rootDrvPaths,
  type UploadBundle,
} from '@farm/cli';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const bigDag = join(repoRoot, 'examples', 'big-dag');
const scratch = mkdtempSync(join(tmpdir(), 'farm-bundle-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function nixStore(args: string[]): string[] {
  const r = spawnSync('nix-store', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '');
}

function instantiateFile(file: string): string[] {
  const r = spawnSync('nix-instantiate', [file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '');
}

/** Every item's references are itself or earlier items. */
function assertDependencyFirst(bundle: UploadBundle): void {
  const seen = new Set<string>();
  for (const item of bundle.items) {
    for (const r of item.references) assert.ok(r === item.path || seen.has(r), `${item.path} comes before its reference ${r}`);
    assert.ok(!seen.has(item.path), `${item.path} is listed twice`);
    seen.add(item.path);
  }
}

const bigRoots = (async () => {
  const roots = await evaluateInstallable(parseInstallable('', { file: join(bigDag, 'default.nix') }));
  return rootDrvPaths(roots);
})();
const bigBundle = bigRoots.then((roots) => buildUploadBundle(roots));

test('the big-dag bundle is the exact closure, dependency-first, with kinds and ATerms', async () => {
  const roots = await bigRoots;
  const bundle = await bigBundle;
  assert.deepEqual(bundle.roots, roots);
  const closure = nixStore(['-qR', ...roots]);
  assert.deepEqual(bundle.items.map((i) => i.path).sort(), [...closure].sort());
  assert.equal(bundle.items.filter((i) => i.kind === 'drv').length, 53);
  assert.deepEqual(bundle.items.filter((i) => i.kind === 'source').map((i) => i.path.replace(/^.*?-/, '')), ['seed.txt']);
  assertDependencyFirst(bundle);
  for (const item of bundle.items) {
    if (item.kind === 'drv') {
      assert.deepEqual(Buffer.from(item.aterm!), readFileSync(item.path), item.path);
      assert.ok(item.derivation!.outputs.size >= 1);
      assert.match(item.ca ?? '', /^text:sha256:/);
    } else {
      assert.equal(item.aterm, undefined);
      assert.match(item.ca ?? '', /^fixed:r:sha256:/);
    }
  }
});

test('narHash, narSize and references of every item equal nix-store --query', async () => {
  const bundle = await bigBundle;
  const paths = bundle.items.map((i) => i.path);
  const hashes = nixStore(['-q', '--hash', ...paths]);
  const sizes = nixStore(['-q', '--size', ...paths]);
  bundle.items.forEach((item, i) => {
    assert.equal(item.narHash.toPrefixed('nix32'), hashes[i], item.path);
    assert.equal(item.narSize, BigInt(sizes[i]!), item.path);
  });
  for (const item of bundle.items.filter((i) => /-(summary|sources-seeded|diamond-3-root)\.drv$/.test(i.path))) {
    assert.deepEqual([...item.references].sort(), nixStore(['-q', '--references', item.path]).sort(), item.path);
  }
  const info = bundleItemPathInfo(bundle.items.at(-1)!);
  assert.equal(info.narHash, bundle.items.at(-1)!.narHash);
  assert.deepEqual(info.sigs, []);
});

test('the NAR streams of every item hash to its narHash', async () => {
  const bundle = await bigBundle;
  for (const item of bundle.items) {
    const viaGenerator = Hash.of('sha256', Buffer.concat([...bundleNarChunks(item)]));
    assert.ok(viaGenerator.equals(item.narHash), item.path);
  }
  const source = bundle.items.find((i) => i.kind === 'source')!;
  const parts: Buffer[] = [];
  for await (const c of openBundleNar(source)) parts.push(c as Buffer);
  assert.ok(Hash.of('sha256', Buffer.concat(parts)).equals(source.narHash));
  assert.equal(BigInt(Buffer.concat(parts).length), source.narSize);
});

test('1,200 generated derivations (wide and deep) bundle through batched path-info calls', async () => {
  // 40 chains of 30 links; link i of chain c also reads link i-1 of chain c-1 (a lattice).
  const file = join(scratch, 'lattice.nix');
  writeFileSync(
    file,
    `let
       mk = c: i: derivation {
         name = "lattice-\${toString c}-\${toString i}"; system = "x86_64-linux"; builder = "/bin/sh";
         args = [ "-c" "echo \${toString c} \${toString i} > $out" ];
         deps = (if i > 0 then [ (node c (i - 1)) ] else [ ]) ++ (if i > 0 && c > 0 then [ (node (c - 1) (i - 1)) ] else [ ]);
       };
       nodes = builtins.genList (c: builtins.genList (i: mk c i) 30) 40;
       node = c: i: builtins.elemAt (builtins.elemAt nodes c) i;
     in builtins.listToAttrs (builtins.genList (c: { name = "c\${toString c}"; value = builtins.genList (i: node c i) 30; }) 40)
       // { tips = builtins.listToAttrs (builtins.genList (c: { name = "t\${toString c}"; value = node c 29; }) 40); }`,
  );
  const tips = rootDrvPaths(await evaluateInstallable(parseInstallable('tips', { file })));
  assert.equal(tips.length, 40);
  // Every derivation as a root, in batches of 500: three path-info processes whose closures overlap.
  const everything = nixStore(['-qR', ...tips]);
  assert.equal(everything.length, 1200);
  const bundle = await buildUploadBundle(everything, { batchSize: 500 });
  assert.equal(bundle.items.length, 1200);
  assertDependencyFirst(bundle);
  assert.deepEqual(bundle.items.map((i) => i.path).sort(), [...everything].sort());
});

test('a .drv-named store path whose contents do not match its path is refused, naming it', async () => {
  // A real derivation's ATerm added as a plain file: Nix accepts it (its outputs are right for
  // the name) as a valid store path, but a source path (fixed:r:sha256), not the text path its
  // contents hash to.
  const expr = join(scratch, 'liar.nix');
  writeFileSync(expr, 'derivation { name = "liar"; system = "x86_64-linux"; builder = "/bin/sh"; args = [ "-c" "echo > $out" ]; }');
  const [honest] = instantiateFile(expr);
  const copy = join(scratch, 'liar.drv');
  writeFileSync(copy, readFileSync(honest!));
  const [liar] = nixStore(['--add', copy]);
  await assert.rejects(buildUploadBundle([liar!]), (e) => {
    assert.ok(isFarmError(e, 'INVALID_ARGUMENT'), String(e));
    assert.equal(e.details['path'], liar);
    assert.match(e.message, new RegExp(`^${liar}: drvPath is '${liar}' but should be '/nix/store/[a-z0-9]{32}-liar\\.drv'`));
    return true;
  });
  await assert.rejects(buildUploadBundle(['/nix/store/00000000000000000000000000000000-gone.drv']), (e) => isFarmError(e, 'NOT_FOUND') && /gone\.drv/.test(e.message));
  await assert.rejects(buildUploadBundle([join(bigDag, 'seed.txt')]), (e) => isFarmError(e, 'INVALID_ARGUMENT'));
});

test('dependencyOrder: references first, bytewise ties, self-references allowed, gaps and cycles refused', () => {
  const refs = new Map<string, string[]>([
    ['d', ['b', 'c', 'd']],
    ['c', ['a']],
    ['b', ['a']],
    ['a', []],
  ]);
  assert.deepEqual(dependencyOrder(refs), ['a', 'b', 'c', 'd']);
  assert.throws(() => dependencyOrder(new Map([['x', ['y']]])), (e) => isFarmError(e, 'INTERNAL') && /x refers to y, which is not in the closure/.test(e.message));
  assert.throws(() => dependencyOrder(new Map([['x', ['y']], ['y', ['x']]])), (e) => isFarmError(e) && /cycle/.test(e.message));
  const chain = new Map<string, string[]>();
  for (let i = 0; i < 100_000; i++) chain.set(`p${String(i).padStart(6, '0')}`, i === 0 ? [] : [`p${String(i - 1).padStart(6, '0')}`]);
  const order = dependencyOrder(chain);
  assert.equal(order[0], 'p000000');
  assert.equal(order.at(-1), 'p099999');
});
