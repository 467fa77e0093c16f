/**
 * Cross-check against the real Nix 2.8 on 300 random trees (seeded; the seed is in every
 * failure message): our narHash must equal `nix-hash --type sha256 --base32` (one call for all
 * trees), our NAR bytes must equal `nix-store --dump` (every third tree), and our reader must
 * parse Nix's bytes and unpack them to a tree that dumps to the same bytes again. Missing nix binaries fail the test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { dumpNarToBuffer, hashPath, parseNarBytes, unpackNar } from '../src/index.js';
import { makeTempDir, prng, randomTree, removeDir } from './nar-helpers.js';

const TREES = 300;
const BASE_SEED = Number(process.env['FARM_NAR_SEED'] ?? 20240601);

function run(cmd: string, args: string[]): Buffer {
  const r = spawnSync(cmd, args, { maxBuffer: 1 << 28 });
  assert.equal(r.error, undefined, `${cmd} could not be run: ${String(r.error)}`);
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed: ${r.stderr?.toString()}`);
  return r.stdout;
}

test(`${TREES} random trees: bytes == nix-store --dump, hash == nix-hash, reader/unpack round-trip`, async () => {
  const tmp = makeTempDir('nar-xcheck');
  try {
    const paths: string[] = [];
    const seeds: number[] = [];
    for (let i = 0; i < TREES; i++) {
      const seed = BASE_SEED + i;
      const rand = prng(seed);
      const path = join(tmp, `t${i}`);
      // Mostly small trees; every 25th may hold a few MB so large-file paths are exercised.
      randomTree(path, rand, { maxDepth: 1 + (i % 4), maxBytes: i % 25 === 0 ? 4_000_000 : 150_000 });
      paths.push(path);
      seeds.push(seed);
    }
    const nixHashes = run('nix-hash', ['--type', 'sha256', '--base32', ...paths]).toString().trim().split('\n');
    assert.equal(nixHashes.length, TREES);
    for (let i = 0; i < TREES; i++) {
      const path = paths[i]!;
      const where = `tree ${i} (seed ${seeds[i]}, FARM_NAR_SEED=${BASE_SEED})`;
      const ours = dumpNarToBuffer(path);
      assert.equal(ours.narHash.encode('nix32'), nixHashes[i], `${where}: narHash differs from nix-hash`);
      assert.equal(hashPath(path).narHash.encode('nix32'), nixHashes[i], `${where}: hashPath`);
      // nix-store costs ~25 ms to start, so bytes are compared on every third tree; the hash
      // comparison above covers all of them (equal sha256 of the NAR means equal bytes).
      const theirs = i % 3 === 0 ? run('nix-store', ['--dump', path]) : ours.nar;
      assert.ok(ours.nar.equals(theirs), `${where}: NAR bytes differ from nix-store --dump (ours ${ours.nar.length} B, nix ${theirs.length} B)`);
      const parsed = await parseNarBytes(theirs);
      assert.equal(parsed.narHash.encode('nix32'), nixHashes[i], `${where}: reader hash`);
      assert.equal(parsed.narSize, theirs.length, `${where}: reader size`);
      const dest = join(tmp, `u${i}`);
      await unpackNar(theirs, dest);
      assert.ok(dumpNarToBuffer(dest).nar.equals(theirs), `${where}: unpacked tree re-dumps differently`);
      removeDir(dest);
    }
  } finally {
    removeDir(tmp);
  }
});
