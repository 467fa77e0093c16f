/**
 * Real Nix NARs: paths built by `nix-store --realise` (a tree with an executable, a symlink and a
 * self-reference, a chain, a fixed-output and a multi-output derivation), a `builtins.toFile`
 * text path and a `nix-store --add` directory are uploaded with the path infos Nix reports —
 * NARs streamed straight from `nix-store --dump` — and their `.drv` files with addDerivation.
 * The store must accept all of it, and give back NARs byte-identical to `nix-store --dump`
 * and `.drv` path infos equal to Nix's own (narHash, narSize, references).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hash, sha256, type PathInfo } from '@farm/nix';
import type { LmdbFarmStore } from '../src/index.js';
import { readAll, withStore } from './store-fixtures.js';

const NIX_OPTS = ['--option', 'substituters', ''];

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}
const lines = (s: string) => s.split('\n').filter((l) => l !== '');

function expression(): string {
  const fixedText = 'fixed by hash\n';
  return `
let
  mk = name: script: extra: derivation ({
    inherit name;
    system = builtins.currentSystem;
    builder = "/bin/sh";
    args = [ "-c" script ];
    PATH = "/usr/bin:/bin";
  } // extra);
  note = builtins.toFile "farm-store-note.txt" "a note for the farm store test\\n";
  leaf = mk "farm-store-leaf" "echo leaf > $out" {};
  fixed = mk "farm-store-fixed" "printf '${fixedText.replace('\n', '\\\\n')}' > $out" {
    outputHashMode = "flat"; outputHashAlgo = "sha256"; outputHash = "${sha256(fixedText).nix32}";
  };
  multi = mk "farm-store-multi" "echo lib > $out; mkdir $dev; echo $out > $dev/points-to-out" { outputs = [ "out" "dev" ]; };
  tree = mk "farm-store-tree" ''
    mkdir -p $out/bin $out/share
    printf '#!/bin/sh\\necho run\\n' > $out/bin/run; chmod +x $out/bin/run
    cat \${leaf} \${fixed} > $out/share/data
    echo \${note} \${multi.dev} > $out/share/paths
    ln -s ../share/data $out/bin/data
    echo $out > $out/self
  '' {};
in [ tree fixed multi ]
`;
}

function nixPathInfo(path: string): PathInfo {
  // `nix path-info` would build a .drv argument, so .drv files are only queried with nix-store.
  const [j] = JSON.parse(run('nix', ['path-info', '--json', '--extra-experimental-features', 'nix-command', ...NIX_OPTS, path])) as Array<{
    narHash: string;
    narSize: number;
    references: string[];
    deriver?: string;
    ca?: string;
  }>;
  assert.ok(j !== undefined, `nix path-info ${path}`);
  return {
    path,
    narHash: Hash.parse(j.narHash),
    narSize: BigInt(j.narSize),
    references: j.references,
    registrationTime: 0n,
    ultimate: false,
    sigs: [],
    ...(j.deriver !== undefined ? { deriver: j.deriver } : {}),
    ...(j.ca !== undefined ? { ca: j.ca } : {}),
  };
}

/** The NAR of `path` streamed from a real `nix-store --dump` process. */
async function* dumpStream(path: string): AsyncGenerator<Uint8Array> {
  const child = spawn('nix-store', ['--dump', path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    for await (const chunk of child.stdout) yield chunk as Buffer;
    assert.equal(await exited, 0, `nix-store --dump ${path}`);
  } finally {
    child.kill('SIGKILL');
  }
}

/** Dependencies first, by the references Nix reports (self-references ignored). */
function topoOrder(paths: string[], refs: (p: string) => string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (p: string) => {
    if (seen.has(p)) return;
    seen.add(p);
    for (const r of refs(p)) if (r !== p) visit(r);
    out.push(p);
  };
  paths.forEach(visit);
  return out;
}

async function upload(store: LmdbFarmStore, path: string): Promise<void> {
  if (path.endsWith('.drv')) {
    assert.deepEqual(await store.addDerivation(path, await readFile(path)), { added: true }, path);
  } else {
    assert.deepEqual(await store.addPath(nixPathInfo(path), dumpStream(path)), { added: true }, path);
  }
}

test('NARs and derivations produced by the real Nix are accepted and read back identically', { timeout: 50_000 }, async () => {
  const work = await mkdtemp(join(tmpdir(), 'farm-store-nix-'));
  try {
    await writeFile(join(work, 'default.nix'), expression());
    const drvs = lines(run('nix-instantiate', [join(work, 'default.nix')]));
    const outputs = lines(run('nix-store', ['--realise', ...NIX_OPTS, ...drvs]));
    // A source tree added with nix-store --add: fixed:r:sha256 content address.
    const src = join(work, 'farm-store-src');
    await mkdir(join(src, 'sub'), { recursive: true });
    await writeFile(join(src, 'sub', 'exe'), '#!/bin/sh\n', { mode: 0o755 });
    await writeFile(join(src, 'plain'), 'plain\n');
    await symlink('sub/exe', join(src, 'link'));
    const added = run('nix-store', ['--add', src]).trim();

    const closure = lines(run('nix-store', ['-qR', ...drvs, ...outputs, added]));
    const refsOf = new Map(closure.map((p) => [p, lines(run('nix-store', ['-q', '--references', p]))]));
    const order = topoOrder(closure, (p) => refsOf.get(p) ?? []);
    assert.ok(order.some((p) => p.endsWith('-farm-store-note.txt')) && order.some((p) => p.endsWith('-farm-store-multi-dev')));

    await withStore(async (store) => {
      for (const p of order) await upload(store, p);
      assert.deepEqual(await store.missing(closure), []);
      assert.deepEqual(await store.closure(outputs), lines(run('nix-store', ['-qR', ...outputs])).sort());
      for (const p of order) {
        const nixNar = execFileSync('nix-store', ['--dump', p], { maxBuffer: 64 * 1024 * 1024 });
        assert.ok((await readAll(await store.narStream(p))).equals(nixNar), `NAR of ${p} differs from nix-store --dump`);
        const ours = (await store.getPathInfo(p))!;
        assert.equal(ours.narHash.toPrefixed('nix32'), run('nix-store', ['-q', '--hash', p]).trim(), p);
        assert.equal(ours.narSize.toString(), run('nix-store', ['-q', '--size', p]).trim(), p);
        assert.deepEqual(ours.references, [...refsOf.get(p)!].sort(), p);
      }
      const addedInfo = (await store.getPathInfo(added))!;
      assert.match(addedInfo.ca ?? '', /^fixed:r:sha256:/);
      const fixedOut = outputs.find((o) => o.endsWith('-farm-store-fixed'))!;
      assert.match((await store.getPathInfo(fixedOut))?.ca ?? '', /^fixed:sha256:/, 'the fixed output came with its content address');
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
