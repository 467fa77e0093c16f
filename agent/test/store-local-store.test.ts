/**
 * LocalStore.fetchMissing with an in-process NAR source: verified, canonical, atomic; shared
 * inputs fetched once; mismatches and oversized or failing streams leave nothing behind; paths
 * that are not plain store paths are refused before any I/O.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FarmError, isFarmError } from '@farm/common';
import { dumpNarToBuffer, parseStorePath } from '@farm/nix';
import type { PathInfo__Output } from '@farm/proto';
import { makeTempDir } from '@farm/testkit';
import { LocalStore, type NarFetcher } from '../src/index.js';
import { fakeStorePath } from './fixtures/build-helpers.js';

interface Source {
  readonly info: PathInfo__Output;
  readonly nar: Buffer;
}

function source(scratch: string, name: string, build: (dir: string) => void): Source {
  const path = fakeStorePath(name);
  const dir = join(scratch, `src-${parseStorePath(path).baseName}`);
  build(dir);
  const { nar, narHash, narSize } = dumpNarToBuffer(dir);
  return { nar, info: { path, narHash: narHash.toPrefixed('nix32'), narSize: String(narSize), references: [], deriver: '', ca: '', sigs: [], registrationTime: '0' } };
}

/** Serves NARs in 1000-byte pieces, counting calls; `gate` holds every stream until released. */
function fetcher(nars: Map<string, Buffer>, o: { gate?: Promise<void>; failAfter?: number } = {}): NarFetcher & { calls: string[] } {
  const calls: string[] = [];
  const f = async function* (path: string): AsyncGenerator<Uint8Array> {
    calls.push(path);
    await o.gate;
    const nar = nars.get(path);
    if (nar === undefined) throw new FarmError('NOT_FOUND', `no NAR for ${path}`);
    for (let off = 0; off < nar.length; off += 1000) {
      if (o.failAfter !== undefined && off >= o.failAfter) throw new FarmError('UNAVAILABLE', 'connection reset');
      yield nar.subarray(off, off + 1000);
    }
  };
  return Object.assign(f, { calls });
}

test('missing inputs are fetched, verified, canonicalised and named by base name; present ones are skipped', async () => {
  await using tmp = await makeTempDir();
  const a = source(tmp.path, 'tree', (d) => {
    mkdirSync(join(d, 'bin'), { recursive: true });
    writeFileSync(join(d, 'bin', 'tool'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
    writeFileSync(join(d, 'data'), 'x'.repeat(5000));
    symlinkSync('data', join(d, 'link'));
  });
  const b = source(tmp.path, 'file', (d) => writeFileSync(d, 'just a file\n'));
  const store = new LocalStore(join(tmp.path, 'store'));
  const f = fetcher(new Map([[a.info.path, a.nar], [b.info.path, b.nar]]));
  assert.deepEqual(await store.fetchMissing([a.info, b.info], f), { fetched: 2, bytes: a.nar.length + b.nar.length });
  assert.ok(store.has(a.info.path) && store.has(b.info.path));
  const local = store.localPath(a.info.path);
  assert.equal(local, join(tmp.path, 'store', parseStorePath(a.info.path).baseName));
  assert.equal(dumpNarToBuffer(local).narHash.toPrefixed('nix32'), a.info.narHash);
  assert.equal(lstatSync(join(local, 'bin', 'tool')).mode & 0o7777, 0o555);
  assert.equal(lstatSync(join(local, 'data')).mode & 0o7777, 0o444);
  assert.equal(lstatSync(join(local, 'bin')).mode & 0o7777, 0o555);
  assert.equal(lstatSync(join(local, 'data')).mtimeMs, 1000);
  assert.equal(readlinkSync(join(local, 'link')), 'data');
  assert.ok(lstatSync(store.localPath(b.info.path)).isFile());

  assert.deepEqual(await store.fetchMissing([a.info, b.info], f), { fetched: 0, bytes: 0 });
  assert.equal(f.calls.length, 2);
});

test('two builds sharing an input fetch it once', async () => {
  await using tmp = await makeTempDir();
  const shared = source(tmp.path, 'shared', (d) => writeFileSync(d, 'shared\n'));
  const own = source(tmp.path, 'own', (d) => writeFileSync(d, 'own\n'));
  const store = new LocalStore(join(tmp.path, 'store'));
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const f = fetcher(new Map([[shared.info.path, shared.nar], [own.info.path, own.nar]]), { gate });
  const first = store.fetchMissing([shared.info], f);
  const second = store.fetchMissing([own.info, shared.info], f);
  await new Promise((r) => setImmediate(r));
  release();
  await Promise.all([first, second]);
  assert.equal(f.calls.filter((p) => p === shared.info.path).length, 1);
  assert.ok(store.has(shared.info.path) && store.has(own.info.path));
});

test('a NAR that does not match its narHash is refused and nothing is left in the store root', async () => {
  await using tmp = await makeTempDir();
  const a = source(tmp.path, 'good', (d) => {
    mkdirSync(d);
    writeFileSync(join(d, 'f'), 'contents\n');
  });
  const store = new LocalStore(join(tmp.path, 'store'));
  const wrongHash = { ...a.info, narHash: source(tmp.path, 'other', (d) => writeFileSync(d, 'other')).info.narHash };
  await assert.rejects(store.fetchMissing([wrongHash], fetcher(new Map([[a.info.path, a.nar]]))), (e) => isFarmError(e, 'FAILED_PRECONDITION') && /does not match/.test(e.message));
  assert.deepEqual(readdirSync(join(tmp.path, 'store')), []);
  assert.equal(store.has(a.info.path), false);
});

test('a stream longer than the announced narSize is stopped at the limit and removed', async () => {
  await using tmp = await makeTempDir();
  const a = source(tmp.path, 'big', (d) => writeFileSync(d, 'y'.repeat(50_000)));
  const store = new LocalStore(join(tmp.path, 'store'));
  const small = { ...a.info, narSize: '1000' };
  await assert.rejects(store.fetchMissing([small], fetcher(new Map([[a.info.path, a.nar]]))), FarmError);
  assert.deepEqual(readdirSync(join(tmp.path, 'store')), []);
});

test('a transfer that breaks off keeps the server error code and leaves nothing', async () => {
  await using tmp = await makeTempDir();
  const a = source(tmp.path, 'cut', (d) => writeFileSync(d, 'z'.repeat(20_000)));
  const store = new LocalStore(join(tmp.path, 'store'));
  await assert.rejects(store.fetchMissing([a.info], fetcher(new Map([[a.info.path, a.nar]]), { failAfter: 5000 })), (e) => isFarmError(e, 'UNAVAILABLE') && /connection reset/.test(e.message));
  await assert.rejects(store.fetchMissing([a.info], fetcher(new Map())), (e) => isFarmError(e, 'NOT_FOUND'));
  assert.deepEqual(readdirSync(join(tmp.path, 'store')), []);
});

test('paths that are not top-level store paths are refused before anything is fetched', async () => {
  await using tmp = await makeTempDir();
  const store = new LocalStore(join(tmp.path, 'store'));
  const good = source(tmp.path, 'ok', (d) => writeFileSync(d, 'ok'));
  const f = fetcher(new Map());
  for (const path of ['/nix/store/../../etc/passwd', '/etc/passwd', `${good.info.path}/sub`, '/nix/store/.fetch-x', '/nix/store/aaaa-short']) {
    await assert.rejects(store.fetchMissing([good.info, { ...good.info, path }], f), Error, path);
  }
  assert.deepEqual(f.calls, []);
});

test('a bad narHash or narSize in the path info is INVALID_ARGUMENT', async () => {
  await using tmp = await makeTempDir();
  const store = new LocalStore(join(tmp.path, 'store'));
  const a = source(tmp.path, 'a', (d) => writeFileSync(d, 'a'));
  const f = fetcher(new Map([[a.info.path, a.nar]]));
  await assert.rejects(store.fetchMissing([{ ...a.info, narHash: 'nonsense' }], f), (e) => isFarmError(e, 'INVALID_ARGUMENT'));
  await assert.rejects(store.fetchMissing([{ ...a.info, narHash: `md5:${'0'.repeat(32)}` }], f), (e) => isFarmError(e, 'INVALID_ARGUMENT'));
  await assert.rejects(store.fetchMissing([{ ...a.info, narSize: '0' }], f), (e) => isFarmError(e, 'INVALID_ARGUMENT'));
});

test('removeLeftovers deletes the temporary entries of a killed run and keeps store paths', async () => {
  await using tmp = await makeTempDir();
  const root = join(tmp.path, 'store');
  const store = new LocalStore(root);
  const a = source(tmp.path, 'kept', (d) => writeFileSync(d, 'kept'));
  await store.fetchMissing([a.info], fetcher(new Map([[a.info.path, a.nar]])));
  mkdirSync(join(root, '.fetch-abc-half'));
  writeFileSync(join(root, '.fetch-abc-half', 'x'), 'partial');
  writeFileSync(join(root, '.incoming-1-y'), '');
  assert.equal(store.removeLeftovers(), 2);
  assert.deepEqual(readdirSync(root), [parseStorePath(a.info.path).baseName]);
});
