/**
 * On-disk layout of a farm store state directory:
 *   store.mdb, store.mdb-lock   LMDB (see ../lmdb/schema.ts); small NARs live inline in it
 *   nar/<narHash nix32>.nar      one file per distinct NAR above the inline threshold, read-only,
 *                                never rewritten
 *   tmp/                          uploads in progress; anything here at open is a crash leftover
 *
 * A NAR file reaches nar/ only by link(2) from a complete, verified, fsynced temp file, so nar/
 * never holds a partial NAR. link fails with EEXIST instead of replacing, which makes the
 * write-once rule atomic even between concurrent uploads of the same NAR. NARs at or below the
 * store's `inlineNarMax` never touch the disk outside LMDB (see lmdb-farm-store.ts). */
import { link, mkdir, open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Hash } from '@farm/nix';

export interface StoreLayout {
  readonly dir: string;
  readonly dbFile: string;
  readonly narDir: string;
  readonly tmpDir: string;
}

export function storeLayout(dir: string): StoreLayout {
  return { dir, dbFile: join(dir, 'store.mdb'), narDir: join(dir, 'nar'), tmpDir: join(dir, 'tmp') };
}

export function narFileName(layout: StoreLayout, narHash: Hash): string {
  return join(layout.narDir, `${narHash.nix32}.nar`);
}

/** Creates the directories and removes every crash leftover in tmp/. Returns how many were removed. */
export async function prepareLayout(layout: StoreLayout): Promise<number> {
  await mkdir(layout.narDir, { recursive: true });
  await mkdir(layout.tmpDir, { recursive: true });
  const leftovers = await readdir(layout.tmpDir);
  for (const name of leftovers) await rm(join(layout.tmpDir, name), { recursive: true, force: true });
  return leftovers.length;
}

/**
 * Puts a verified temp file in place as `target` unless a file is already there (same name =
 * same NAR hash = same bytes). Returns true when this call created it. The directory entry is
 * fsynced so the file is durable before any LMDB record may refer to it.
 */
export async function placeOnce(tmpFile: string, target: string, dir: string): Promise<boolean> {
  let created = true;
  try {
    await link(tmpFile, target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    created = false;
  }
  if (created) {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  }
  return created;
}
