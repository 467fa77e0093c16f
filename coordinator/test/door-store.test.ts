/**
 * Uploads through the Nix door on a real LMDB farm store: a path whose NAR does not match its
 * declared hash or size, or whose references the farm does not hold, is refused with a message
 * naming the path and the problem, and leaves the store as it was; AddToStore and AddTextToStore
 * compute the paths real Nix 2.8 computes (vectors/store-paths.json).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hash, regularFileNar, sha256 } from '@farm/nix';
import { readVectorJson } from '@farm/testkit';
import { addContentAddressed, importUploadedPath, importUploadedPaths, sortByReferences } from '../src/service/door-store.js';
import { fakePath, infoFor, narOf, withStore } from './store-fixtures.js';

interface StorePathVectors {
  textPaths: { path: string; name: string; contents: string; references: string[]; pathInfo: { narHash: string; narSize: number; ca: string } }[];
  fixedPaths: { path: string; name: string; recursive: boolean; hashAlgo?: string; digestBase16: string; pathInfo: { narHash: string; narSize: number; ca: string } }[];
}

test('a good upload is stored; a wrong hash, a wrong size or a missing reference is refused by name and stores nothing', async () => {
  await withStore(async (store) => {
    const a = fakePath('a');
    const b = fakePath('b');
    const narA = await narOf('leaf\n');
    const narB = await narOf(`refers to ${a}\n`);
    await assert.rejects(importUploadedPath(store, infoFor(b, narB, [a]), narB), (e: Error) => e.message.includes(b) && /not valid|reference/i.test(e.message));
    assert.equal(await store.isValidPath(b), false);
    const wrongHash = { ...infoFor(a, narA), narHash: sha256('something else') };
    await assert.rejects(importUploadedPath(store, wrongHash, narA), (e: Error) => e.message.includes(a) && /hash/i.test(e.message));
    const wrongSize = { ...infoFor(a, narA), narSize: BigInt(narA.length + 8) };
    await assert.rejects(importUploadedPath(store, wrongSize, narA), (e: Error) => e.message.includes(a) && /size/i.test(e.message));
    await assert.rejects(importUploadedPath(store, infoFor(a, narA), Buffer.from('not a NAR at all, but the right size?')), (e: Error) => e.message.includes(a));
    assert.equal(await store.isValidPath(a), false, 'nothing was stored');
    // Sent in the wrong order, importUploadedPaths puts references first.
    await importUploadedPaths(store, [
      { info: infoFor(b, narB, [a]), nar: narB },
      { info: infoFor(a, narA), nar: narA },
    ]);
    assert.deepEqual(await store.queryValidPaths([a, b]), new Set([a, b]));
  });
});

test('sortByReferences: references first, self-references and outside paths ignored', () => {
  const items = [
    { path: 'c', references: ['b', 'c', 'x'] },
    { path: 'b', references: ['a'] },
    { path: 'a', references: [] },
  ];
  assert.deepEqual(sortByReferences(items, (i) => i).map((i) => i.path), ['a', 'b', 'c']);
});

test('AddToStore / AddTextToStore compute the paths and content addresses Nix 2.8 does', async () => {
  const v = readVectorJson<StorePathVectors>('store-paths.json');
  await withStore(async (store) => {
    for (const t of v.textPaths.filter((x) => x.references.length === 0)) {
      const info = await addContentAddressed(store, t.name, 'text:sha256', [], new TextEncoder().encode(t.contents));
      assert.equal(info.path, t.path, t.name);
      assert.equal(info.ca, t.pathInfo.ca);
      assert.ok(info.narHash.equals(Hash.parse(t.pathInfo.narHash)), `${t.name}: narHash`);
    }
    let flat = 0;
    for (const f of v.fixedPaths.filter((x) => !x.recursive && x.hashAlgo !== undefined)) {
      // A flat fixed path's data is the file itself; its contents are what hashes to the digest.
      const contents = new TextEncoder().encode('hello\n');
      if (Hash.of(f.hashAlgo as 'sha256', contents).base16 !== f.digestBase16) continue;
      const info = await addContentAddressed(store, f.name, `fixed:${f.hashAlgo}`, [], contents);
      assert.equal(info.path, f.path, `${f.hashAlgo} flat`);
      assert.equal(info.ca, f.pathInfo.ca);
      assert.equal(info.narSize, BigInt(regularFileNar(contents).length));
      flat++;
    }
    assert.ok(flat >= 2, `checked ${flat} flat fixed-output vectors`);
    await assert.rejects(addContentAddressed(store, 'x', 'git:sha1', [], new Uint8Array(1)), /unsupported content-address method 'git:sha1'/);
  });
});
