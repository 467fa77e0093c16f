/**
 * The farm store's everyday behaviour on real LMDB files: add, query, closure, missing,
 * hash-part lookup, NAR read-back, reopen, dedup by NAR hash, no-op re-adds and concurrent adds.
 * Small NARs are inline in LMDB by default; tests about nar/ files open with inlineNarMax 0
 * (store-inline.test.ts covers the inline kind).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { parseStorePath, StreamSource } from '@farm/nix';
import { openFarmStore } from '../src/index.js';
import { chunked, fakePath, infoFor, narOf, readAll, withStore } from './store-fixtures.js';

test('added paths are valid, queryable, closed over references and read back byte for byte', async () => {
  await withStore(async (store) => {
    const a = fakePath('a');
    const b = fakePath('b');
    const c = fakePath('c');
    const narA = await narOf('leaf\n');
    const narB = await narOf({ bin: { tool: { exec: `#!/bin/sh\necho ${a}\n` } }, lib: { link: a } });
    const narC = await narOf(`${b} ${c}`);
    assert.deepEqual(await store.addPath(infoFor(a, narA), chunked(narA)), { added: true });
    assert.deepEqual(await store.addPath(infoFor(b, narB, [a]), chunked(narB, 7)), { added: true });
    // c refers to itself and to b; the self-reference needs no prior upload.
    assert.deepEqual(await store.addPath(infoFor(c, narC, [c, b], { deriver: fakePath('c.drv') }), chunked(narC)), { added: true });

    assert.deepEqual(await store.queryValidPaths([a, c, fakePath('nope')]), new Set([a, c]));
    assert.deepEqual(await store.closure([c]), [a, b, c].sort());
    assert.deepEqual(await store.closure([a]), [a]);
    assert.deepEqual(await store.missing([c, fakePath('x'), fakePath('x'), a]), [fakePath('x')]);
    assert.equal(await store.queryPathFromHashPart(parseStorePath(b).hashPart), b);
    assert.equal(await store.queryPathFromHashPart(parseStorePath(fakePath('zz')).hashPart), undefined);
    await assert.rejects(store.closure([fakePath('unknown')]), /unknown is not valid/);

    const info = await store.getPathInfo(c);
    assert.ok(info !== undefined);
    assert.deepEqual(info.references, [b, c].sort(), 'references are stored sorted');
    assert.equal(info.narSize, BigInt(narC.length));
    assert.equal(typeof info.registrationTime, 'bigint');
    assert.equal(info.deriver, fakePath('c.drv'));
    assert.deepEqual(await readAll(await store.narStream(b)), narB);
    await assert.rejects(store.narStream(fakePath('nope')), /not valid/);
  });
});

test('state survives close and reopen', async () => {
  await withStore(async (store, dir) => {
    const a = fakePath('persist');
    const nar = await narOf({ f: 'x', g: { exec: 'y' } });
    await store.addPath(infoFor(a, nar, [], { sigs: ['k:sig'] }), chunked(nar));
    await store.close();
    const again = await openFarmStore({ dir });
    try {
      const info = await again.getPathInfo(a);
      assert.ok(info);
      assert.deepEqual(info.sigs, ['k:sig']);
      assert.ok(info.narHash.equals(infoFor(a, nar).narHash));
      assert.deepEqual(await readAll(await again.narStream(a)), nar);
      assert.deepEqual(await again.closure([a]), [a]);
    } finally {
      await again.close();
    }
  });
});

test('two paths with identical NAR content share one write-once NAR file', async () => {
  await withStore(
    async (store) => {
      const nar = await narOf('same bytes');
      await store.addPath(infoFor(fakePath('one'), nar), chunked(nar));
      await store.addPath(infoFor(fakePath('two'), nar), chunked(nar));
      assert.equal((await readdir(store.layout.narDir)).length, 1);
      const file = await store.narFile(fakePath('one'));
      assert.ok(file !== undefined && file.startsWith(store.layout.narDir));
      assert.equal(await store.narFile(fakePath('two')), file);
      assert.deepEqual(store.inventory().inlineNars, []);
      assert.deepEqual(await readAll(await store.narStream(fakePath('two'))), nar);
    },
    { inlineNarMax: 0 },
  );
});

test('adding a valid path again is a no-op that still drains the input', async () => {
  await withStore(async (store) => {
    const p = fakePath('again');
    const nar = await narOf('again');
    await store.addPath(infoFor(p, nar), chunked(nar));
    const before = await store.getPathInfo(p);
    let pulled = 0;
    async function* counting() {
      for await (const c of chunked(nar, 3)) {
        pulled += c.length;
        yield c;
      }
    }
    assert.deepEqual(await store.addPath(infoFor(p, nar), counting()), { added: false });
    assert.equal(pulled, nar.length, 'the whole upload was consumed');
    assert.deepEqual(await store.getPathInfo(p), before);
    // A NAR embedded in a protocol stream: exactly its bytes are consumed, the rest is left.
    const source = new StreamSource(Buffer.concat([nar, Buffer.from('NEXT')]));
    assert.deepEqual(await store.addPath(infoFor(p, nar), source), { added: false });
    assert.deepEqual(Buffer.from(await source.readExactly(4)).toString(), 'NEXT');
  });
});

test('a NAR read from a ByteSource stops at its end (protocol streams)', async () => {
  await withStore(async (store) => {
    const p = fakePath('embedded');
    const nar = await narOf({ x: 'y' });
    const source = new StreamSource(chunked(Buffer.concat([nar, Buffer.from('TAIL')]), 5));
    assert.deepEqual(await store.addPath(infoFor(p, nar), source), { added: true });
    assert.equal(Buffer.from(await source.readExactly(4)).toString(), 'TAIL');
    assert.deepEqual(await readAll(await store.narStream(p)), nar);
  });
});

test('concurrent adds of the same path and of the same NAR are safe', async () => {
  await withStore(async (store) => {
    // Far above the inline threshold: a NAR file.
    const nar = await narOf({ big: 'z'.repeat(3_000_000) });
    const p = fakePath('racy');
    const q = fakePath('racy-twin');
    const results = await Promise.all([
      store.addPath(infoFor(p, nar), chunked(nar, 65536)),
      store.addPath(infoFor(p, nar), chunked(nar, 50000)),
      store.addPath(infoFor(q, nar), chunked(nar, 70000)),
      store.addPath(infoFor(p, nar), chunked(nar, 4096)),
    ]);
    assert.equal(results.filter((r, i) => i !== 2 && r.added).length, 1, 'exactly one add of the path wins');
    assert.equal(results[2]!.added, true);
    assert.deepEqual(await readdir(store.layout.narDir), [`${infoFor(p, nar).narHash.nix32}.nar`]);
    assert.deepEqual(await readdir(store.layout.tmpDir), []);
    assert.deepEqual(await readAll(await store.narStream(q)), nar);
  });
});
