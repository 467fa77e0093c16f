/**
 * Every tree of vectors/nar.json (made by Nix 2.8's `nix-store --dump`): rebuilt on disk the way
 * tools/gen_nar.py built it, then dumped (bytes, narHash in every form, narSize, store path),
 * parsed (tokens, events, hash), streamed through every API, unpacked and re-dumped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import {
  NarReadable,
  StreamSource,
  dumpNarSync,
  dumpNarToBuffer,
  hashPath,
  makeSourcePath,
  narChunks,
  narEvents,
  parseNarBytes,
  readNar,
  unpackNar,
  type NarEvent,
} from '../src/index.js';
import { decodeTokens, makeTempDir, prng, randomChunks, removeDir, type NarToken } from './nar-helpers.js';
import { readVectorJson } from './vectors.js';

interface NarVector {
  name: string;
  fsBaseName: string;
  narBase64: string;
  narSize: number;
  narHashBase16: string;
  narHashNix32: string;
  narHashSRI: string;
  narHashPrefixedNix32: string;
  narTokens: NarToken[];
  nixStoreAddPath: string;
}
const vectors = readVectorJson<{ nars: NarVector[] }>('nar.json').nars;

function w(p: string, data: string, mode = 0o644): void {
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, data);
  chmodSync(p, mode);
}

/** The trees of tools/gen_nar.py, keyed by vector name. */
function buildVectorTrees(root: string): Map<string, string> {
  w(`${root}/regular/hello.txt`, 'hello\n');
  w(`${root}/empty-file/empty`, '');
  w(`${root}/executable/run.sh`, '#!/bin/sh\necho hi\n', 0o755);
  w(`${root}/len8/eight`, '12345678');
  w(`${root}/len9/nine`, '123456789');
  mkdirSync(`${root}/symlink`, { recursive: true });
  symlinkSync('/nix/store/some-target/bin/x', `${root}/symlink/link`);
  mkdirSync(`${root}/empty-dir/d`, { recursive: true });
  const t = `${root}/tree/t`;
  w(`${t}/b.txt`, 'bee\n');
  w(`${t}/B.txt`, 'capital bee\n');
  w(`${t}/a-b`, 'dash\n');
  w(`${t}/a.b`, 'dot\n');
  w(`${t}/a_b`, 'underscore\n');
  w(`${t}/bin/tool`, '#!/bin/sh\nexit 0\n', 0o755);
  w(`${t}/share/doc/empty`, '');
  mkdirSync(`${t}/share/empty-subdir`, { recursive: true });
  symlinkSync('../bin/tool', `${t}/share/tool-link`);
  symlinkSync('b.txt', `${t}/zz-link`);
  chmodSync(`${t}/b.txt`, 0o600);
  utimesSync(`${t}/b.txt`, 1, 1);
  return new Map([
    ['regular-file', `${root}/regular/hello.txt`],
    ['empty-regular-file', `${root}/empty-file/empty`],
    ['executable-file', `${root}/executable/run.sh`],
    ['contents-len-8', `${root}/len8/eight`],
    ['contents-len-9', `${root}/len9/nine`],
    ['symlink', `${root}/symlink/link`],
    ['empty-directory', `${root}/empty-dir/d`],
    ['nested-tree', t],
  ]);
}

test('nar.json has the 8 documented trees', () => {
  assert.equal(vectors.length, 8);
});

test('dumping each vector tree gives Nix 2.8 bytes, narHash in all forms, narSize and store path', async () => {
  const tmp = makeTempDir('nar-vec');
  try {
    const trees = buildVectorTrees(tmp);
    for (const v of vectors) {
      const path = trees.get(v.name);
      assert.ok(path !== undefined, `no tree for vector ${v.name}`);
      const expected = Buffer.from(v.narBase64, 'base64');
      const { nar, narHash, narSize } = dumpNarToBuffer(path);
      assert.ok(nar.equals(expected), `${v.name}: NAR bytes differ`);
      assert.equal(narSize, v.narSize, v.name);
      assert.equal(narHash.encode('base16'), v.narHashBase16, v.name);
      assert.equal(narHash.encode('nix32'), v.narHashNix32, v.name);
      assert.equal(narHash.encode('sri'), v.narHashSRI, v.name);
      assert.equal(narHash.toPrefixed('nix32'), v.narHashPrefixedNix32, v.name);
      assert.ok(hashPath(path).narHash.equals(narHash), v.name);
      assert.equal(makeSourcePath(v.fsBaseName, narHash), v.nixStoreAddPath, v.name);

      // The same bytes from the iterator and the Readable (fresh chunks, smallest chunk size).
      assert.ok(Buffer.concat([...narChunks(path, { chunkSize: 4096 })]).equals(expected), `${v.name}: narChunks`);
      const streamed: Buffer[] = [];
      const readable = new NarReadable(path, { chunkSize: 4096 });
      await pipeline(readable, new Writable({ write: (c: Buffer, _e, cb) => (streamed.push(c), cb()) }));
      assert.ok(Buffer.concat(streamed).equals(expected), `${v.name}: NarReadable`);
      assert.ok(readable.result?.narHash.equals(narHash), `${v.name}: NarReadable result`);
    }
  } finally {
    removeDir(tmp);
  }
});

test('parsing each vector NAR yields its tokens, hash and size; unpack + re-dump is identical', async () => {
  const tmp = makeTempDir('nar-vec-parse');
  try {
    for (const v of vectors) {
      const nar = Buffer.from(v.narBase64, 'base64');
      assert.deepEqual(decodeTokens(nar), v.narTokens, `${v.name}: reference decoder disagrees with the vector`);
      const r = await parseNarBytes(nar);
      assert.equal(r.narSize, v.narSize);
      assert.equal(r.narHash.encode('base16'), v.narHashBase16);

      // Events rebuild the token list: every name, target and content byte is reported.
      const rebuilt: NarToken[] = ['nix-archive-1'];
      const events = narEvents(new StreamSource(nar, 'NAR_TRUNCATED'));
      let contents: Buffer[] = [];
      const nodeTokens = (e: NarEvent & { name: Uint8Array | null }) =>
        e.name === null ? [] : ['entry', '(', 'name', Buffer.from(e.name).toString(), 'node'];
      for (let it = await events.next(); it.done !== true; it = await events.next()) {
        const e = it.value;
        if (e.type === 'directory') rebuilt.push(...nodeTokens(e), '(', 'type', 'directory');
        else if (e.type === 'directoryEnd') rebuilt.push(...(e.depth > 0 ? [')', ')'] : [')']));
        else if (e.type === 'symlink') rebuilt.push(...nodeTokens(e), '(', 'type', 'symlink', 'target', Buffer.from(e.target).toString(), ')', ...(e.depth > 0 ? [')'] : []));
        else if (e.type === 'file') {
          rebuilt.push(...nodeTokens(e), '(', 'type', 'regular', ...(e.executable ? ['executable', ''] : []), 'contents');
          contents = [];
        } else if (e.type === 'contents') contents.push(Buffer.from(e.chunk));
        else rebuilt.push(Buffer.concat(contents).toString(), ')', ...(e.depth > 0 ? [')'] : []));
      }
      assert.deepEqual(rebuilt, v.narTokens, `${v.name}: events`);

      const dest = join(tmp, v.name);
      const u = await unpackNar(nar, dest);
      assert.ok(u.narHash.equals(r.narHash));
      assert.ok(dumpNarToBuffer(dest).nar.equals(nar), `${v.name}: unpack + re-dump`);
    }
  } finally {
    removeDir(tmp);
  }
});

test('a NAR embedded in a stream is consumed exactly, whatever the chunking', async () => {
  const rand = prng(7);
  for (const v of vectors) {
    const nar = Buffer.from(v.narBase64, 'base64');
    const trailer = Buffer.from('after the NAR');
    for (let round = 0; round < 5; round++) {
      const source = new StreamSource(randomChunks(Buffer.concat([nar, trailer]), rand, 1 + round * 13), 'WIRE_TRUNCATED');
      const copied: Buffer[] = [];
      const r = await readNar(source, {}, { onRaw: (b) => copied.push(Buffer.from(b)) });
      assert.equal(r.narSize, nar.length, v.name);
      assert.equal(source.offset, nar.length, `${v.name}: consumed past the NAR`);
      assert.ok(Buffer.concat(copied).equals(nar), `${v.name}: tee`);
      assert.ok(Buffer.from(await source.readExactly(trailer.length)).equals(trailer));
    }
  }
});

test('dumpNarSync with a tiny output buffer splits tokens and contents across chunks correctly', () => {
  const tmp = makeTempDir('nar-small-buf');
  try {
    const dir = join(tmp, 'd');
    mkdirSync(dir);
    writeFileSync(join(dir, 'big'), Buffer.alloc(100_003, 7));
    symlinkSync('y'.repeat(3000), join(dir, 'long-link'));
    writeFileSync(join(dir, 'n'.repeat(250)), 'x');
    const whole = dumpNarToBuffer(dir);
    const parts: Buffer[] = [];
    const r = dumpNarSync(dir, (c) => parts.push(Buffer.from(c)), { chunkSize: 4096 });
    assert.ok(parts.length > 20);
    assert.ok(parts.every((p) => p.length <= 4096));
    assert.ok(Buffer.concat(parts).equals(whole.nar));
    assert.ok(r.narHash.equals(whole.narHash));
  } finally {
    removeDir(tmp);
  }
});
