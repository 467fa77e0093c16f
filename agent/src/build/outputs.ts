/**
 * Turning what a builder left in the scratch store into registered outputs, as Nix's
 * registerOutputs does for input-addressed and fixed-output derivations:
 *   1. every declared output exists (else the build failed to produce it);
 *   2. its metadata is canonicalised (canonicalise.ts);
 *   3. one NAR serialisation pass computes narHash/narSize and scans for references — the hash
 *      parts of the input closure and of all this derivation's outputs (self-references
 *      included) — and, for a fixed output, the content hash it must match;
 *   4. the outputs move into the store root with rename(2), replacing a stale copy there.
 * Nothing is moved unless every output passed 1–3.
 */
import { createHash } from 'node:crypto';
import { cpSync, lstatSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Hash, ReferenceScanner, classifyOutput, dumpNarSync, sortUtf8, type FileIngestionMethod } from '@farm/nix';
import { canonicalisePathMetaData } from './canonicalise.js';
import { hashMismatchMessage, missingOutputMessage } from './messages.js';
import type { BuiltOutput } from './types.js';

export type CollectResult =
  | { readonly ok: true; readonly outputs: BuiltOutput[] }
  | { readonly ok: false; readonly status: 'output-missing' | 'hash-mismatch'; readonly message: string };

interface FixedHash {
  readonly method: FileIngestionMethod;
  readonly hash: Hash;
}

export function collectOutputs(
  drvPath: string,
  outputs: ReadonlyMap<string, { readonly path: string; readonly hashAlgo: string; readonly hash: string }>,
  scratchStore: string,
  inputClosure: readonly string[],
): CollectResult {
  for (const [name, o] of outputs) {
    if (!existsOrLink(join(scratchStore, basename(o.path)))) {
      return { ok: false, status: 'output-missing', message: missingOutputMessage(drvPath, name, o.path) };
    }
  }
  const candidates = [...inputClosure, ...[...outputs.values()].map((o) => o.path)];
  const built: BuiltOutput[] = [];
  for (const [name, o] of outputs) {
    const local = join(scratchStore, basename(o.path));
    canonicalisePathMetaData(local);
    const kind = classifyOutput(name, o);
    const fixed: FixedHash | undefined = kind.kind === 'fixed' ? { method: kind.method, hash: kind.hash } : undefined;
    const scanner = new ReferenceScanner(candidates);
    const contentHasher = fixed?.method === 'recursive' && fixed.hash.algo !== 'sha256' ? createHash(fixed.hash.algo) : undefined;
    const nar = dumpNarSync(local, (c) => {
      scanner.push(c);
      contentHasher?.update(c);
    });
    if (fixed !== undefined) {
      const got = fixedContentHash(local, fixed, nar.narHash, contentHasher === undefined ? undefined : Hash.fromDigest(fixed.hash.algo, contentHasher.digest()));
      if (got === undefined || !got.equals(fixed.hash)) {
        const gotText = got === undefined ? 'not a regular file (flat hashing needs one)' : got.toPrefixed('nix32');
        return { ok: false, status: 'hash-mismatch', message: hashMismatchMessage(o.path, fixed.hash.toPrefixed('nix32'), gotText) };
      }
    }
    built.push({ name, path: o.path, narHash: nar.narHash, narSize: nar.narSize, references: sortUtf8(scanner.found()) });
  }
  return { ok: true, outputs: built };
}

function fixedContentHash(local: string, fixed: FixedHash, narSha256: Hash, narOther: Hash | undefined): Hash | undefined {
  if (fixed.method === 'recursive') return narOther ?? narSha256;
  if (!lstatSync(local).isFile()) return undefined;
  return Hash.of(fixed.hash.algo, readFileSync(local));
}

function existsOrLink(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Moves each output from the scratch store into `<storeRoot>/<base>`. A stale copy is renamed
 * aside first and removed after, so the store never shows a half-written path. Across file
 * systems the output is copied next to its destination and then renamed (still atomic there).
 */
export function moveOutputsIntoStore(outputs: readonly BuiltOutput[], scratchStore: string, storeRoot: string, uniq: string): void {
  for (const o of outputs) {
    const base = basename(o.path);
    const from = join(scratchStore, base);
    const to = join(storeRoot, base);
    const stale = join(storeRoot, `.stale-${uniq}-${base}`);
    const hadStale = existsOrLink(to);
    if (hadStale) renameSync(to, stale);
    try {
      renameSync(from, to);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
      const tmp = join(storeRoot, `.incoming-${uniq}-${base}`);
      cpSync(from, tmp, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
      canonicalisePathMetaData(tmp);
      renameSync(tmp, to);
    }
    if (hadStale) rmSync(stale, { recursive: true, force: true });
  }
}
