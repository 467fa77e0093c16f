/**
 * The upload bundle of a submission: every `.drv` in the closure of the roots and every input
 * source they use, dependency-first, each with its path info, and for derivations the ATerm
 * bytes, already verified with the nix library (drv path and every static output path
 * recomputed), so that a store that lies is caught here and not by the coordinator.
 *
 * Cost for N derivations: ⌈N/2000⌉ `nix path-info` processes, N small file reads, one
 * hashDerivationModulo per derivation (memoised across the closure).
 */
import { readFileSync } from 'node:fs';
import { FarmError } from '@farm/common';
import {
  DEFAULT_STORE_DIR,
  NarReadable,
  derivationReferences,
  narChunks,
  parseDerivation,
  sortedBytewise,
  verifyDerivation,
  type Derivation,
  type DrvHashMemo,
  type Hash,
  type NarDumpResult,
  type PathInfo,
} from '@farm/nix';
import { dependencyOrder } from './dependency-order.js';
import { queryDrvClosure, type StorePathInfo } from './path-infos.js';
import type { NixToolOptions } from './run-nix.js';

export interface BundleItem {
  readonly path: string;
  /** Nix's rule: a store path whose name ends in `.drv` is a derivation; the rest are sources. */
  readonly kind: 'drv' | 'source';
  readonly references: readonly string[];
  readonly narHash: Hash;
  readonly narSize: bigint;
  readonly ca?: string;
  /** The ATerm file contents (drv items only). */
  readonly aterm?: Uint8Array;
  /** The parsed derivation (drv items only). */
  readonly derivation?: Derivation;
}

export interface UploadBundle {
  /** The distinct root `.drv` paths, in the order given. */
  readonly roots: readonly string[];
  /** Dependency-first: each item's references are all earlier in the list (or itself). */
  readonly items: readonly BundleItem[];
}

export interface BundleOptions extends NixToolOptions {
  readonly storeDir?: string;
  /** Roots per `nix path-info` process (default PATH_INFO_BATCH). */
  readonly batchSize?: number;
}

export async function buildUploadBundle(rootDrvPaths: readonly string[], options: BundleOptions = {}): Promise<UploadBundle> {
  const storeDir = options.storeDir ?? DEFAULT_STORE_DIR;
  const roots = [...new Set(rootDrvPaths)];
  for (const r of roots) {
    if (!r.endsWith('.drv')) throw new FarmError('INVALID_ARGUMENT', `${r} is not a .drv path`, { path: r });
  }
  const infos = await queryDrvClosure(roots, options);
  const order = dependencyOrder(new Map([...infos].map(([p, i]) => [p, i.references])));
  const derivations = new Map<string, { aterm: Uint8Array; drv: Derivation }>();
  for (const path of order) {
    if (isDrvPath(path)) derivations.set(path, readDerivation(path, storeDir));
  }
  await verifyAll(derivations, infos, storeDir);
  const items = order.map((path): BundleItem => {
    const info = infos.get(path)!;
    const d = derivations.get(path);
    return {
      path,
      kind: d !== undefined ? 'drv' : 'source',
      references: info.references,
      narHash: info.narHash,
      narSize: info.narSize,
      ...(info.ca !== undefined ? { ca: info.ca } : {}),
      ...(d !== undefined ? { aterm: d.aterm, derivation: d.drv } : {}),
    };
  });
  return { roots, items };
}

/** A Readable of the item's NAR, dumped from the local store by the nix library. */
export function openBundleNar(item: BundleItem): NarReadable {
  return new NarReadable(item.path);
}

/** The item's NAR as fresh chunks; the generator's return value has narHash and narSize. */
export function bundleNarChunks(item: BundleItem): Generator<Uint8Array, NarDumpResult> {
  return narChunks(item.path);
}

/** The item as a PathInfo (as the coordinator's store records it; no signatures, not ultimate). */
export function bundleItemPathInfo(item: BundleItem): PathInfo {
  return {
    path: item.path,
    narHash: item.narHash,
    narSize: item.narSize,
    references: sortedBytewise(item.references),
    registrationTime: 0n,
    ultimate: false,
    sigs: [],
    ...(item.ca !== undefined ? { ca: item.ca } : {}),
  };
}

function isDrvPath(path: string): boolean {
  return path.endsWith('.drv');
}

function readDerivation(path: string, storeDir: string): { aterm: Uint8Array; drv: Derivation } {
  let aterm: Buffer;
  try {
    aterm = readFileSync(path);
  } catch (e) {
    throw new FarmError('NOT_FOUND', `cannot read ${path}: ${(e as Error).message}`, { path }, { cause: e });
  }
  try {
    return { aterm, drv: parseDerivation(aterm, { storeDir }) };
  } catch (e) {
    throw new FarmError('INVALID_ARGUMENT', `${path} is not a valid derivation: ${(e as Error).message}`, { path }, { cause: e });
  }
}

/**
 * Every drv's path and output paths recomputed, and its registered references compared with the
 * ones its ATerm implies; the first disagreement is an error naming the derivation.
 */
async function verifyAll(
  derivations: ReadonlyMap<string, { drv: Derivation }>,
  infos: ReadonlyMap<string, StorePathInfo>,
  storeDir: string,
): Promise<void> {
  const memo: DrvHashMemo = new Map();
  const resolve = (p: string): Derivation => {
    const d = derivations.get(p);
    if (d === undefined) throw new FarmError('INTERNAL', `input derivation ${p} is not in the closure`, { path: p });
    return d.drv;
  };
  for (const [path, { drv }] of derivations) {
    const mismatches = await verifyDerivation(path, drv, resolve, { storeDir, memo });
    const first = mismatches[0];
    if (first !== undefined) {
      throw new FarmError('INVALID_ARGUMENT', `${path}: ${first.field} is '${first.actual}' but should be '${first.expected}'`, {
        path,
        field: first.field,
      });
    }
    const expectedRefs = sortedBytewise(derivationReferences(drv)).join(' ');
    const registered = sortedBytewise(infos.get(path)!.references).join(' ');
    if (expectedRefs !== registered) {
      throw new FarmError('INVALID_ARGUMENT', `${path}: the store registers references [${registered}] but its ATerm implies [${expectedRefs}]`, { path });
    }
  }
}
