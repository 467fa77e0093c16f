/**
 * Helpers for the farm store tests: a store in a temp dir that is always closed and removed,
 * NARs made by the nix library's writer from real files, fake input-addressed store paths, and
 * a snapshot of the whole state (LMDB keys and both directories) to prove refusals change nothing.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dumpNarToBuffer, makeStorePath, sha256, type PathInfo } from '@farm/nix';
import { openFarmStore, type LmdbFarmStore, type NarSource, type OpenFarmStoreOptions } from '../src/index.js';

export async function withStore<T>(fn: (store: LmdbFarmStore, dir: string) => Promise<T>, options: Omit<OpenFarmStoreOptions, 'dir'> = {}): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'farm-store-'));
  try {
    const store = await openFarmStore({ dir, ...options });
    try {
      return await fn(store, dir);
    } finally {
      await store.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A deterministic input-addressed store path named `name`. */
export function fakePath(name: string, salt = ''): string {
  return makeStorePath('output:out', sha256(`${salt}${name}`), name);
}

export type Tree = string | { readonly exec: string } | { readonly link: string } | { readonly [name: string]: Tree };

async function writeTree(at: string, tree: Tree): Promise<void> {
  if (typeof tree === 'string') return writeFile(at, tree);
  if ('exec' in tree && typeof tree.exec === 'string') return writeFile(at, tree.exec, { mode: 0o755 });
  if ('link' in tree && typeof tree.link === 'string') return symlink(tree.link, at);
  await mkdir(at);
  for (const [name, sub] of Object.entries(tree)) await writeTree(join(at, name), sub as Tree);
}

/** The NAR of `tree` (a string is a single regular file), written by the nix library. */
export async function narOf(tree: Tree): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'farm-nar-'));
  try {
    await writeTree(join(dir, 'root'), tree);
    return dumpNarToBuffer(join(dir, 'root')).nar;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function infoFor(path: string, nar: Uint8Array, references: string[] = [], extra: Partial<PathInfo> = {}): PathInfo {
  return { path, narHash: sha256(nar), narSize: BigInt(nar.length), references, registrationTime: 0n, ultimate: false, sigs: [], ...extra };
}

/** Yields `bytes` in pieces of `size` (an upload as it arrives from a socket). */
export async function* chunked(bytes: Uint8Array, size = 1000): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, Math.min(bytes.length, i + size));
}

export interface StoreSnapshot {
  readonly db: ReturnType<LmdbFarmStore['inventory']>;
  readonly narFiles: string[];
  readonly tmpFiles: string[];
}

export async function snapshot(store: LmdbFarmStore): Promise<StoreSnapshot> {
  return {
    db: store.inventory(),
    narFiles: (await readdir(store.layout.narDir)).sort(),
    tmpFiles: (await readdir(store.layout.tmpDir)).sort(),
  };
}

/** `store.addPath(info, nar)` is refused with `message` and the whole state is as before. */
export async function assertRefusedUnchanged(store: LmdbFarmStore, info: PathInfo, nar: NarSource, message: RegExp): Promise<void> {
  const before = await snapshot(store);
  await assert.rejects(store.addPath(info, nar), message);
  assert.deepEqual(await snapshot(store), before, `state changed after refusing ${info.path}`);
  assert.equal(await store.isValidPath(info.path), false);
}

export async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}
