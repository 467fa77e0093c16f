/**
 * Restores a NAR into a new filesystem tree at `dest` (Nix's restorePath), safely for hostile
 * input.
 *
 * Contract:
 * - `dest` must not exist (not even as an empty directory or a dangling symlink); its parent
 *   must. The NAR's root becomes `dest` itself (a file, symlink or directory).
 * - Modes: directories 0755, regular files 0644, executables 0755 (files are fchmod'ed so the
 *   umask does not matter; directories get 0755 minus the umask). Timestamps are not restored.
 *   Canonicalising for a store (0555/0444, mtime 1) is the caller's job.
 * - Nothing is written or followed outside `dest`: entry names are validated by the reader
 *   (no `/`, `.`, `..`, NUL, empty), every node is created exclusively (mkdir, O_CREAT|O_EXCL|
 *   O_NOFOLLOW, symlink — all fail on an existing name and none follows a final symlink), and a
 *   directory entry can only be created inside a directory this call created, never through a
 *   symlink it created (names are unique and sorted, so a symlink `a` cannot be reused as
 *   directory `a`). Concurrent tampering with `dest` by another local process is out of scope.
 * - On any error everything created is removed (dest included) before the error is rethrown.
 * File I/O is synchronous (bounded per chunk); memory is O(depth + chunk).
 */
import { closeSync, constants, fchmodSync, lstatSync, mkdirSync, openSync, symlinkSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { NixFormatError, isNixFormatError } from '../errors.js';
import { StreamSource, type ByteSource } from '../io/byte-source.js';
import type { NarReadOptions, NarReadResult } from './events.js';
import { readNar } from './read.js';
import { removeTreeQuietly } from './remove-tree.js';

export interface UnpackOptions extends Omit<NarReadOptions, 'requireEnd'> {
  /** Fail with BAD_NAR if the source has bytes after the NAR (default: true for raw streams/buffers, false for a ByteSource). */
  readonly requireEnd?: boolean;
}

const SLASH = Buffer.from('/');
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export async function unpackNar(
  input: ByteSource | AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array,
  dest: string,
  options: UnpackOptions = {},
): Promise<NarReadResult> {
  const isByteSource = typeof (input as Partial<ByteSource>).readExactly === 'function';
  const source = isByteSource ? (input as ByteSource) : new StreamSource(input as AsyncIterable<Uint8Array>, 'NAR_TRUNCATED');
  const requireEnd = options.requireEnd ?? !isByteSource;
  const root = Buffer.from(resolve(dest));
  if (lstatSync(root, { throwIfNoEntry: false }) !== undefined) {
    throw new NixFormatError('IO_ERROR', `destination ${root.toString()} already exists`, { field: root.toString() });
  }

  const dirPaths: Buffer[] = [];
  let created = false;
  let fd: number | null = null;
  let current = root;
  const pathOf = (depth: number, name: Uint8Array | null): Buffer => {
    const parent = depth === 0 ? undefined : dirPaths[depth - 1];
    current = name === null || parent === undefined ? root : Buffer.concat([parent, SLASH, name]);
    return current;
  };
  try {
    const result = await readNar(
      source,
      {
        directory(depth, name) {
          const p = pathOf(depth, name);
          mkdirSync(p, { mode: 0o755 });
          created = true;
          dirPaths[depth] = p;
        },
        file(depth, name, executable) {
          const p = pathOf(depth, name);
          fd = openSync(p, CREATE_FLAGS, 0o600);
          created = true;
          fchmodSync(fd, executable ? 0o755 : 0o644);
        },
        contents(chunk) {
          for (let off = 0; off < chunk.length; ) off += writeSync(fd!, chunk, off, chunk.length - off);
        },
        fileEnd() {
          const f = fd!;
          fd = null;
          closeSync(f);
        },
        symlink(depth, name, target) {
          symlinkSync(Buffer.from(target), pathOf(depth, name));
          created = true;
        },
      },
      { ...options, requireEnd },
    );
    return result;
  } catch (e) {
    if (fd !== null) closeSync(fd);
    if (created) removeTreeQuietly(root);
    if (isNixFormatError(e)) throw e;
    const code = (e as { code?: unknown } | null)?.code;
    throw new NixFormatError('IO_ERROR', `cannot unpack to ${current.toString()}: ${typeof code === 'string' ? code : String(e)}`, {
      field: current.toString(),
      cause: e,
    });
  }
}
