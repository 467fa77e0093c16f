/**
 * Small NARs inline in LMDB: a NAR of at most `inlineNarMax` bytes is stored in the `inlineNars`
 * database in the same commit as its path info — no file in nar/, nothing in tmp/ — and read back
 * byte for byte, across reopen, deduplicated by NAR hash. Larger NARs still go to files; `.drv`
 * uploads build their NAR in memory; refusals of small NARs leave every database unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { regularFileNar, sha256, StreamSource } from '@farm/nix';
import { readVectorJson } from '@farm/testkit';
import { DEFAULT_INLINE_NAR_MAX, openFarmStore, type LmdbFarmStore, type OpenFarmStoreOptions } from '../src/index.js';
import { assertRefusedUnchanged, chunked, fakePath, infoFor, narOf, readAll, withStore } from './store-fixtures.js';

interface Vector {
  drvPath: string;
  name: string;
  aterm: string;
  drvReferences: string[];
}
const vectors = Object.values(readVectorJson<{ derivations: Record<string, Vector> }>('derivations.json').derivations);
const vector = (name: string): Vector => vectors.find((v) => v.name === name)!;

/** Runs `fn` on the store in `dir` opened with `options`, then closes it. */
async function reopened<T>(dir: string, options: Omit<OpenFarmStoreOptions, 'dir'>, fn: (store: LmdbFarmStore) => Promise<T>): Promise<T> {
  const store = await openFarmStore({ dir, ...options });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function assertNoFiles(store: LmdbFarmStore): Promise<void> {
  assert.deepEqual(await readdir(store.layout.narDir), [], 'no NAR file');
  assert.deepEqual(await readdir(store.layout.tmpDir), [], 'no temp file');
}

test('a small upload is inline: no file, exact bytes back, valid after close and reopen', async () => {
  await withStore(async (store, dir) => {
    assert.equal(store.inlineNarMax, DEFAULT_INLINE_NAR_MAX);
    const leaf = fakePath('inline-leaf');
    const tree = fakePath('inline-tree');
    const narLeaf = await narOf('leaf\n');
    const narTree = await narOf({ bin: { run: { exec: `#!/bin/sh\necho ${leaf}\n` } }, data: 'd'.repeat(20_000), link: { link: 'bin/run' } });
    assert.ok(narTree.length > 20_000 && narTree.length <= DEFAULT_INLINE_NAR_MAX);
    assert.deepEqual(await store.addPath(infoFor(leaf, narLeaf), chunked(narLeaf, 7)), { added: true });
    // A ByteSource positioned at the NAR (a protocol stream): exactly the NAR is consumed.
    const source = new StreamSource(chunked(Buffer.concat([narTree, Buffer.from('TAIL')]), 3000));
    assert.deepEqual(await store.addPath(infoFor(tree, narTree, [leaf]), source), { added: true });
    assert.equal(Buffer.from(await source.readExactly(4)).toString(), 'TAIL');

    await assertNoFiles(store);
    assert.deepEqual(store.inventory().inlineNars, [sha256(narLeaf).nix32, sha256(narTree).nix32].sort());
    assert.equal(await store.narFile(tree), undefined, 'an inline NAR has no file');
    assert.ok((await readAll(await store.narStream(tree))).equals(narTree));
    assert.ok((await readAll(await store.narStream(leaf))).equals(narLeaf));
    await assert.rejects(store.narFile(fakePath('nope')), /not valid/);

    await store.close();
    await reopened(dir, {}, async (again) => {
      assert.deepEqual(await again.closure([tree]), [leaf, tree].sort());
      assert.ok((await readAll(await again.narStream(tree))).equals(narTree));
      assert.equal((await again.getPathInfo(tree))?.narSize, BigInt(narTree.length));
    });
  });
});

test('a NAR above the threshold goes to a file; exactly the threshold is inline', async () => {
  const small = await narOf('s'.repeat(1000));
  const big = await narOf('b'.repeat(1001)); // 8 bytes longer: padding rounds 1000 and 1001 apart
  assert.equal(big.length, small.length + 8);
  await withStore(
    async (store) => {
      await store.addPath(infoFor(fakePath('at-threshold'), small), chunked(small));
      await store.addPath(infoFor(fakePath('above'), big), chunked(big));
      assert.deepEqual(store.inventory().inlineNars, [sha256(small).nix32]);
      assert.deepEqual(await readdir(store.layout.narDir), [`${sha256(big).nix32}.nar`]);
      assert.equal(await store.narFile(fakePath('at-threshold')), undefined);
      assert.equal(await store.narFile(fakePath('above')), `${store.layout.narDir}/${sha256(big).nix32}.nar`);
      assert.ok((await readAll(await store.narStream(fakePath('above')))).equals(big));
      assert.ok((await readAll(await store.narStream(fakePath('at-threshold')))).equals(small));
    },
    { inlineNarMax: small.length },
  );
  // And with the default threshold, a 100 KB output is a file.
  await withStore(async (store) => {
    const large = await narOf({ blob: 'L'.repeat(100_000) });
    await store.addPath(infoFor(fakePath('large'), large), chunked(large, 65536));
    assert.deepEqual(store.inventory().inlineNars, []);
    assert.deepEqual(await readdir(store.layout.narDir), [`${sha256(large).nix32}.nar`]);
    assert.deepEqual(await readdir(store.layout.tmpDir), []);
    assert.ok((await readAll(await store.narStream(fakePath('large')))).equals(large));
  });
});

test('a .drv upload is inline, its NAR is regularFileNar of the ATerm, and it reads back', async () => {
  await withStore(async (store, dir) => {
    const a = vector('chain-a');
    const b = vector('chain-b');
    assert.deepEqual(b.drvReferences, [a.drvPath]);
    assert.deepEqual(await store.addDerivation(a.drvPath, a.aterm), { added: true });
    assert.deepEqual(await store.addDerivation(b.drvPath, b.aterm), { added: true });
    await assertNoFiles(store);
    for (const v of [a, b]) {
      const nar = regularFileNar(Buffer.from(v.aterm));
      assert.ok(nar.equals(await narOf(v.aterm)), 'regularFileNar agrees with the NAR writer');
      const info = (await store.getPathInfo(v.drvPath))!;
      assert.ok(info.narHash.equals(sha256(nar)));
      assert.equal(info.narSize, BigInt(nar.length));
      assert.equal(info.ca, `text:${sha256(v.aterm).toPrefixed('nix32')}`);
      assert.equal(await store.narFile(v.drvPath), undefined);
      assert.ok((await readAll(await store.narStream(v.drvPath))).equals(nar));
      assert.equal(Buffer.from((await store.getDerivationAterm(v.drvPath))!).toString(), v.aterm);
    }
    assert.deepEqual(store.inventory().derivations, [a.drvPath, b.drvPath].sort());
    await store.close();
    await reopened(dir, {}, async (again) => {
      assert.equal(Buffer.from((await again.getDerivationAterm(b.drvPath))!).toString(), b.aterm);
      assert.deepEqual(await again.addDerivation(b.drvPath, b.aterm), { added: false });
    });
  });
});

test('a .drv uploaded with addPath (as nix copy does) is read back from its inline NAR', async () => {
  await withStore(async (store) => {
    const a = vector('chain-a');
    const b = vector('chain-b');
    const nar = regularFileNar(Buffer.from(a.aterm));
    assert.deepEqual(await store.addPath(infoFor(a.drvPath, nar, [], { ca: `text:${sha256(a.aterm).toPrefixed('nix32')}` }), chunked(nar)), { added: true });
    assert.deepEqual(store.inventory().derivations, [], 'no parsed copy: the ATerm comes from the NAR');
    assert.equal(Buffer.from((await store.getDerivationAterm(a.drvPath))!).toString(), a.aterm);
    // Its dependent is verified against it (the input derivation is read from the inline NAR).
    assert.deepEqual(await store.addDerivation(b.drvPath, b.aterm), { added: true });
    await assertNoFiles(store);
  });
});

test('a .drv larger than the threshold goes to a file and reads back', async () => {
  const v = vector('simple');
  await withStore(
    async (store) => {
      assert.deepEqual(await store.addDerivation(v.drvPath, v.aterm), { added: true });
      const nar = regularFileNar(Buffer.from(v.aterm));
      assert.deepEqual(await readdir(store.layout.narDir), [`${sha256(nar).nix32}.nar`]);
      assert.deepEqual(store.inventory().inlineNars, []);
      assert.ok((await readAll(await store.narStream(v.drvPath))).equals(nar));
      assert.equal(Buffer.from((await store.getDerivationAterm(v.drvPath))!).toString(), v.aterm);
    },
    { inlineNarMax: 256 },
  );
});

test('paths with the same small NAR share one inline entry, also when added concurrently', async () => {
  await withStore(async (store) => {
    const nar = await narOf('shared bytes');
    const paths = ['one', 'two', 'three', 'four'].map((n) => fakePath(n, 'dedup'));
    assert.deepEqual(await store.addPath(infoFor(paths[0]!, nar), chunked(nar)), { added: true });
    assert.deepEqual(await store.addPath(infoFor(paths[1]!, nar), chunked(nar)), { added: true });
    const results = await Promise.all([
      store.addPath(infoFor(paths[2]!, nar), chunked(nar, 5)),
      store.addPath(infoFor(paths[3]!, nar), chunked(nar, 9)),
      store.addPath(infoFor(paths[3]!, nar), chunked(nar, 11)),
    ]);
    assert.equal(results[0]!.added, true);
    assert.equal([results[1]!, results[2]!].filter((r) => r.added).length, 1, 'exactly one add of the same path wins');
    assert.deepEqual(store.inventory().inlineNars, [sha256(nar).nix32]);
    assert.deepEqual(store.inventory().pathInfos, [...paths].sort());
    for (const p of paths) assert.ok((await readAll(await store.narStream(p))).equals(nar), p);
    await assertNoFiles(store);
  });
});

test('bad hash, wrong size, a longer stream and truncated small NARs are refused, all databases unchanged', async () => {
  await withStore(async (store) => {
    const base = fakePath('inline-base');
    const baseNar = await narOf('base');
    await store.addPath(infoFor(base, baseNar), chunked(baseNar));
    const nar = await narOf({ a: 'x'.repeat(3000), b: { exec: 'y' } });
    const info = infoFor(fakePath('inline-refused'), nar, [base]);
    const wrong = sha256('something else');
    await assertRefusedUnchanged(store, { ...info, narHash: wrong }, chunked(nar), new RegExp(`NAR hash mismatch: expected ${wrong.toPrefixed('nix32')}`));
    await assertRefusedUnchanged(store, { ...info, narSize: info.narSize + 8n }, chunked(nar), new RegExp(`size mismatch: expected ${nar.length + 8} bytes, got ${nar.length}`));
    await assertRefusedUnchanged(store, { ...info, narSize: info.narSize - 8n }, chunked(nar), new RegExp(`size mismatch: expected ${nar.length - 8} bytes`));
    // Declared small, but the stream is far above the threshold: stopped at the declared size.
    const huge = await narOf({ a: 'z'.repeat(200_000) });
    await assertRefusedUnchanged(store, { ...infoFor(info.path, huge), narSize: 1000n }, chunked(huge, 65536), /size mismatch: expected 1000 bytes, the NAR is longer/);
    const cut = nar.subarray(0, nar.length - 100);
    await assertRefusedUnchanged(store, infoFor(info.path, cut), chunked(cut), /ends prematurely|unexpected end/);
    await assertRefusedUnchanged(store, { ...info, narHash: sha256(cut), narSize: BigInt(cut.length) }, new StreamSource(cut, 'NAR_TRUNCATED'), /ends prematurely|unexpected end/);
    assert.deepEqual(store.inventory().inlineNars, [sha256(baseNar).nix32]);
    // The right upload is still accepted afterwards.
    assert.deepEqual(await store.addPath(info, chunked(nar)), { added: true });
  });
});

test('changing the threshold between opens: both kinds stay readable', async () => {
  const fileNar = await narOf('stored as a file');
  const inlineNar = await narOf('stored inline');
  await withStore(
    async (store, dir) => {
      await store.addPath(infoFor(fakePath('as-file'), fileNar), chunked(fileNar));
      assert.equal(store.inventory().inlineNars.length, 0);
      await store.close();
      await reopened(dir, {}, async (again) => {
        await again.addPath(infoFor(fakePath('as-inline'), inlineNar), chunked(inlineNar));
        assert.deepEqual(again.inventory().inlineNars, [sha256(inlineNar).nix32]);
      });
      await reopened(dir, { inlineNarMax: 0 }, async (again) => {
        assert.ok((await readAll(await again.narStream(fakePath('as-file')))).equals(fileNar));
        assert.ok((await readAll(await again.narStream(fakePath('as-inline')))).equals(inlineNar));
        assert.equal(await again.narFile(fakePath('as-inline')), undefined);
      });
    },
    { inlineNarMax: 0 },
  );
});

test('inlineNarMax must be a non-negative integer', async () => {
  for (const bad of [-1, 1.5, Number.NaN]) {
    await assert.rejects(withStore(async () => {}, { inlineNarMax: bad }), /inlineNarMax must be a non-negative integer/);
  }
});
