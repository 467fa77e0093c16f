/**
 * Every refused upload leaves the store exactly as it was: same LMDB keys (inline NARs included),
 * same NAR files, no temp file left behind. Each case also checks that the error names what is
 * wrong. Every case runs twice: with small NARs inline in LMDB (the default) and with every NAR
 * a file (inlineNarMax 0), since the two kinds are received into different sinks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hash, makeFixedOutputPath, makeTextPath, sha256 } from '@farm/nix';
import type { LmdbFarmStore, OpenFarmStoreOptions } from '../src/index.js';
import { assertRefusedUnchanged, chunked, fakePath, infoFor, narOf, snapshot, withStore } from './store-fixtures.js';

const MODES: ReadonlyArray<{ name: string; options: Omit<OpenFarmStoreOptions, 'dir'> }> = [
  { name: 'inline NARs', options: {} },
  { name: 'NAR files', options: { inlineNarMax: 0 } },
];

async function seed(store: LmdbFarmStore): Promise<string> {
  const base = fakePath('base');
  const nar = await narOf('base');
  await store.addPath(infoFor(base, nar), chunked(nar));
  return base;
}

for (const mode of MODES) {
  test(`wrong NAR hash is refused naming expected and actual (${mode.name})`, async () => {
    await withStore(async (store) => {
      const base = await seed(store);
      const nar = await narOf('content');
      const wrong = sha256('something else');
      const info = infoFor(fakePath('h'), nar, [base], { narHash: wrong });
      await assertRefusedUnchanged(store, info, chunked(nar), new RegExp(`NAR hash mismatch: expected ${wrong.toPrefixed('nix32')}, got ${sha256(nar).toPrefixed('nix32')}`));
      await assertRefusedUnchanged(store, { ...info, narHash: Hash.of('sha1', nar) }, chunked(nar), /narHash must be sha256/);
    }, mode.options);
  });

  test(`wrong NAR size is refused, whether the NAR is longer or shorter than declared (${mode.name})`, async () => {
    await withStore(async (store) => {
      await seed(store);
      const nar = await narOf('sized');
      const info = infoFor(fakePath('s'), nar);
      await assertRefusedUnchanged(store, { ...info, narSize: info.narSize + 8n }, chunked(nar), new RegExp(`size mismatch: expected ${nar.length + 8} bytes, got ${nar.length}`));
      await assertRefusedUnchanged(store, { ...info, narSize: info.narSize - 8n }, chunked(nar), new RegExp(`size mismatch: expected ${nar.length - 8} bytes`));
    }, mode.options);
  });

  test(`truncated, malformed and trailing-garbage NARs are refused by the NAR reader (${mode.name})`, async () => {
    await withStore(async (store) => {
      await seed(store);
      const nar = await narOf({ a: 'x'.repeat(5000), b: { exec: 'y' } });
      const info = infoFor(fakePath('t'), nar);
      const cut = nar.subarray(0, nar.length - 100);
      await assertRefusedUnchanged(store, infoFor(info.path, cut), chunked(cut), /ends prematurely|unexpected end/);
      const bad = Buffer.from(nar);
      bad.write('directorz', bad.indexOf('directory'));
      await assertRefusedUnchanged(store, infoFor(info.path, bad), chunked(bad), /BAD_NAR|node type|expected/);
      const notNar = Buffer.from('this is not a NAR at all, only some text!');
      await assertRefusedUnchanged(store, infoFor(info.path, notNar), chunked(notNar), /magic|NAR/);
      const trailing = Buffer.concat([nar, Buffer.alloc(8)]);
      await assertRefusedUnchanged(store, infoFor(info.path, trailing), chunked(trailing), /trailing bytes/);
    }, mode.options);
  });

  test(`a reference that is not valid in the store is refused by name (${mode.name})`, async () => {
    await withStore(async (store) => {
      const base = await seed(store);
      const nar = await narOf('refs');
      const ghost = fakePath('ghost');
      await assertRefusedUnchanged(store, infoFor(fakePath('r'), nar, [base, ghost]), chunked(nar), new RegExp(`reference ${ghost} is not valid`));
    }, mode.options);
  });

  test(`bad store paths are refused: the path, a reference, the deriver (${mode.name})`, async () => {
    await withStore(async (store) => {
      const nar = await narOf('paths');
      await assertRefusedUnchanged(store, infoFor('/nix/store/not-a-hash-name', nar), chunked(nar), /not a store path/);
      await assertRefusedUnchanged(store, infoFor('/tmp/x', nar), chunked(nar), /not in the Nix store/);
      await assertRefusedUnchanged(store, infoFor(`${fakePath('p')}/sub`, nar), chunked(nar), /not a top-level store path/);
      await assertRefusedUnchanged(store, infoFor(fakePath('p'), nar, ['/nix/store/bad']), chunked(nar), /not a store path/);
      await assertRefusedUnchanged(store, infoFor(fakePath('p'), nar, [], { deriver: 'nope' }), chunked(nar), /not in the Nix store/);
    }, mode.options);
  });

  test(`content addresses are verified: path, kind of root and content hash (${mode.name})`, async () => {
    await withStore(async (store) => {
      const text = 'hi there\n';
      const nar = await narOf(text);
      const textPath = makeTextPath('greeting.txt', sha256(text));
      const ca = `text:${sha256(text).toPrefixed('nix32')}`;
      // The ca names another path.
      await assertRefusedUnchanged(store, infoFor(fakePath('greeting.txt'), nar, [], { ca }), chunked(nar), /content address .* gives path/);
      // Right path, but the NAR holds other contents (a consistent NAR hash does not help).
      const otherNar = await narOf('bye\n');
      await assertRefusedUnchanged(store, infoFor(textPath, otherNar, [], { ca }), chunked(otherNar), /does not match its content address/);
      // Right path, but the root is a directory.
      const dirNar = await narOf({ f: text });
      await assertRefusedUnchanged(store, infoFor(textPath, dirNar, [], { ca }), chunked(dirNar), /single file, but the NAR's root is a directory/);
      await assertRefusedUnchanged(store, infoFor(textPath, nar, [], { ca: 'bogus:sha256:x' }), chunked(nar), /bad content address/);
      await assertRefusedUnchanged(store, infoFor(textPath, nar, [], { ca: 'text:md5:00000000000000000000000000000000' }), chunked(nar), /text content addresses use sha256/);
      // fixed:r: with another algorithm than the NAR hash: the NAR is hashed again and compared.
      const treeNar = await narOf({ a: 'b' });
      const wrongSha1 = Hash.of('sha1', 'not the nar');
      const recPath = makeFixedOutputPath('recursive', wrongSha1, 'tree');
      await assertRefusedUnchanged(store, infoFor(recPath, treeNar, [], { ca: `fixed:r:${wrongSha1.toPrefixed('nix32')}` }), chunked(treeNar), /does not match its content address/);

      // And the correct ones are accepted.
      assert.deepEqual(await store.addPath(infoFor(textPath, nar, [], { ca }), chunked(nar)), { added: true });
      const sha1 = Hash.of('sha1', treeNar);
      const goodRec = makeFixedOutputPath('recursive', sha1, 'tree');
      assert.deepEqual(await store.addPath(infoFor(goodRec, treeNar, [], { ca: `fixed:r:${sha1.toPrefixed('nix32')}` }), chunked(treeNar)), { added: true });
      const flatHash = Hash.of('sha512', text);
      const flatPath = makeFixedOutputPath('flat', flatHash, 'flat.txt');
      assert.deepEqual(await store.addPath(infoFor(flatPath, nar, [], { ca: `fixed:${flatHash.toPrefixed('nix32')}` }), chunked(nar)), { added: true });
    }, mode.options);
  });

  test(`limits: oversized NAR, too many references and oversized derivations are refused before storing (${mode.name})`, async () => {
    await withStore(
      async (store) => {
        const base = await seed(store);
        const big = await narOf('y'.repeat(2000));
        await assertRefusedUnchanged(store, infoFor(fakePath('big'), big), chunked(big), /exceeds the limit of 1024 bytes/);
        // A NAR that lies about its size is stopped at the declared size, not read to the end.
        let pulled = 0;
        async function* endless() {
          // A well-formed NAR header for one file announced as 1 GB, then an endless stream.
          const token = (s: string) => {
            const b = Buffer.alloc(8 + Math.ceil(s.length / 8) * 8);
            b.writeUInt32LE(s.length, 0);
            b.write(s, 8);
            return b;
          };
          const len = Buffer.alloc(8);
          len.writeUInt32LE(1_000_000_000, 0);
          yield Buffer.concat([...['nix-archive-1', '(', 'type', 'regular', 'contents'].map(token), len]);
          for (;;) {
            pulled += 4096;
            if (pulled > 1_000_000) throw new Error('read far past the declared size');
            yield Buffer.alloc(4096, 1);
          }
        }
        await assertRefusedUnchanged(store, { ...infoFor(fakePath('liar'), big), narSize: 1000n }, endless(), /size mismatch: expected 1000 bytes, the NAR is longer/);
        const nar = await narOf('refs');
        const refs = [base, fakePath('r1'), fakePath('r2'), fakePath('r3')];
        await assertRefusedUnchanged(store, infoFor(fakePath('many'), nar, refs), chunked(nar), /4 references exceed the limit of 3/);
        const before = await snapshot(store);
        await assert.rejects(store.addDerivation(fakePath('huge.drv'), 'D'.repeat(513)), /513 bytes exceeds the limit of 512 bytes/);
        assert.deepEqual(await snapshot(store), before);
      },
      { ...mode.options, limits: { maxNarSize: 1024, maxReferences: 3, maxAtermSize: 512 } },
    );
  });
}
