/**
 * The reference scanner against a naive substring search: random data with planted hash parts,
 * random chunkings down to 1 byte (matches straddling every possible boundary), overlapping and
 * adjacent candidates inside long nix32 runs, and the NAR conveniences.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ReferenceScanner, StreamSource, dumpNarToBuffer, hashPartOf, isNixFormatError, scanForReferences, scanNarForReferences, scanPathForReferences } from '../src/index.js';
import { makeTempDir, prng, randomChunks, removeDir } from './nar-helpers.js';

const NIX32 = '0123456789abcdfghijklmnpqrsvwxyz';
const randomHashPart = (rand: () => number) => Array.from({ length: 32 }, () => NIX32[Math.floor(rand() * 32)]).join('');

function naive(data: Buffer, parts: string[]): Set<string> {
  const s = data.toString('latin1');
  return new Set(parts.filter((p) => s.includes(p)));
}

test('random data, planted and overlapping hash parts, random chunkings: same as a naive scan', () => {
  for (let seed = 1; seed <= 60; seed++) {
    const rand = prng(seed);
    const parts = Array.from({ length: 12 }, () => randomHashPart(rand));
    const pieces: string[] = [];
    for (let k = 0; k < 40; k++) {
      const r = rand();
      if (r < 0.25) pieces.push(parts[Math.floor(rand() * 6)]!); // only the first 6 are ever planted
      else if (r < 0.35) {
        // Overlap: the tail of one candidate is the head of a planted window.
        const p = parts[Math.floor(rand() * 6)]!;
        pieces.push(p.slice(0, 10) + p + p.slice(20));
      } else if (r < 0.5) pieces.push(randomHashPart(rand) + randomHashPart(rand)); // long nix32 runs, no match
      else pieces.push(String.fromCharCode(...Array.from({ length: Math.floor(rand() * 50) }, () => Math.floor(rand() * 256))));
    }
    const data = Buffer.from(pieces.join(''), 'latin1');
    const expected = naive(data, parts);
    for (const max of [1, 2, 7, 31, 32, 33, 100, 4096]) {
      const found = scanForReferences(randomChunks(data, rand, max), parts);
      assert.deepEqual([...found].sort(), [...expected].sort(), `seed ${seed}, chunks ≤ ${max}`);
    }
  }
});

test('a hash part split at every possible boundary is found; one character short is not', () => {
  const part = '0123456789abcdfghijklmnpqrsvwxyz';
  const data = Buffer.from(`xx/nix/store/${part}-foo\0`);
  for (let cut = 0; cut <= data.length; cut++) {
    assert.deepEqual([...scanForReferences([data.subarray(0, cut), data.subarray(cut)], [`/nix/store/${part}-foo`])], [`/nix/store/${part}-foo`], `cut ${cut}`);
  }
  const almost = Buffer.from(part.slice(0, 31) + '-' + part.slice(1));
  assert.equal(scanForReferences([almost], [part]).size, 0);
  // Many tiny chunks of one long nix32 run: the carry must keep growing across chunks.
  const run = Buffer.from('a'.repeat(100) + part + 'b'.repeat(100));
  assert.equal(scanForReferences(randomChunks(run, prng(3), 3), [part]).size, 1);
});

test('candidates are accepted as store paths or hash parts; bad ones are BAD_STORE_PATH', () => {
  assert.equal(hashPartOf('/nix/store/0123456789abcdfghijklmnpqrsvwxyz-x'), '0123456789abcdfghijklmnpqrsvwxyz');
  assert.equal(hashPartOf('0123456789abcdfghijklmnpqrsvwxyz'), '0123456789abcdfghijklmnpqrsvwxyz');
  for (const bad of ['/nix/store/short-x', 'e123456789abcdfghijklmnpqrsvwxyz', '0123456789abcdfghijklmnpqrsvwxyzz']) {
    assert.throws(() => new ReferenceScanner([bad]), (e: unknown) => isNixFormatError(e, 'BAD_STORE_PATH'), bad);
  }
});

test('scanPathForReferences / scanNarForReferences find hashes in contents, names and symlink targets', async () => {
  const rand = prng(11);
  const [inFile, inName, inLink, absent] = Array.from({ length: 4 }, () => randomHashPart(rand));
  const tmp = makeTempDir('refs');
  try {
    const root = join(tmp, 'out');
    mkdirSync(join(root, 'bin'), { recursive: true });
    writeFileSync(join(root, 'bin', 'tool'), Buffer.concat([Buffer.alloc(100_000, 1), Buffer.from(`/nix/store/${inFile}-glibc/lib`), Buffer.alloc(10, 0)]));
    writeFileSync(join(root, `${inName}-note`), 'x');
    symlinkSync(`/nix/store/${inLink}-bash/bin/bash`, join(root, 'sh'));
    const candidates = [inFile, inName, inLink, absent].map((h) => `/nix/store/${h}-pkg`);
    const expected = candidates.slice(0, 3).sort();
    assert.deepEqual([...scanPathForReferences(root, candidates)].sort(), expected);
    const { nar, narHash } = dumpNarToBuffer(root);
    const r = await scanNarForReferences(new StreamSource(randomChunks(nar, rand, 5000), 'NAR_TRUNCATED'), candidates);
    assert.deepEqual([...r.references].sort(), expected);
    assert.ok(r.narHash.equals(narHash));
  } finally {
    removeDir(tmp);
  }
});
