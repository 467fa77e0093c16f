/**
 * The cache's work directory (derived data only; deleting it costs recompression, nothing else):
 *   nar/<fileHash nix32>.nar<ext>        compressed NARs, write-once, named as their URL
 *   meta/<narHash nix32>.<compression>   {fileHash, fileSize} of that NAR compressed that way,
 *                                        or for `none` the store path last served with that NAR
 *   ls/<narHash nix32>.ls                 NAR listings
 *   tmp/                                  files being written; anything here at start is a leftover
 * Files reach their name only by rename(2) from a complete temp file, so concurrent writers of
 * the same entry both produce a whole file and the last rename wins with identical content.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface WorkLayout {
  readonly narDir: string;
  readonly metaDir: string;
  readonly lsDir: string;
  readonly tmpDir: string;
}

export function workLayout(dir: string): WorkLayout {
  return { narDir: join(dir, 'nar'), metaDir: join(dir, 'meta'), lsDir: join(dir, 'ls'), tmpDir: join(dir, 'tmp') };
}

/** Creates the directories and removes what a crash left in tmp/. */
export async function prepareWorkLayout(layout: WorkLayout): Promise<void> {
  for (const d of [layout.narDir, layout.metaDir, layout.lsDir, layout.tmpDir]) await mkdir(d, { recursive: true });
  for (const name of await readdir(layout.tmpDir)) await rm(join(layout.tmpDir, name), { recursive: true, force: true });
}

/** A fresh name in tmp/. */
export function tempName(layout: WorkLayout): string {
  return join(layout.tmpDir, randomUUID());
}

/** Writes `data` to `target` through a temp file and rename, so readers never see a partial file. */
export async function writeAtomically(layout: WorkLayout, target: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempName(layout);
  try {
    await writeFile(tmp, data, { flush: true });
    await rename(tmp, target);
  } finally {
    await rm(tmp, { force: true });
  }
}
