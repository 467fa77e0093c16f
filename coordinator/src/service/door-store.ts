/**
 * The store side of the Nix door: uploads from Nix clients (AddToStoreNar, AddMultipleToStore,
 * ImportPaths, AddToStore, AddTextToStore) verified and stored, and the orderings the protocols
 * need. Every upload is checked as the FarmStore checks any other — NAR well-formed and matching
 * narHash and narSize, content address recomputed when there is one, every reference already
 * valid — and a `.drv` goes through addDerivation (its drv and output paths recomputed) so that it
 * can be built later with BuildPaths. A refusal names the path and what is wrong, and leaves the
 * store as it was.
 */
import { FarmError } from '@farm/common';
import {
  Hash,
  isHashAlgo,
  makeFixedOutputPath,
  makeTextPath,
  parseStorePath,
  regularFileNar,
  renderContentAddress,
  sha256,
  sortedBytewise,
  type FileIngestionMethod,
  type PathInfo,
} from '@farm/nix';
import { DEFAULT_FARM_STORE_LIMITS, type AddResult, type FarmStore } from '../ports/farm-store.js';
import { addDerivationFromNar } from './drv-upload.js';
import { asFarmError } from './errors.js';

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** Stores one uploaded path after checking it; a refusal is INVALID_ARGUMENT/FAILED_PRECONDITION naming the path. */
export async function importUploadedPath(store: FarmStore, info: PathInfo, nar: Uint8Array): Promise<AddResult> {
  try {
    if (BigInt(nar.length) !== info.narSize) throw new FarmError('INVALID_ARGUMENT', `NAR size mismatch: declared ${info.narSize} bytes, sent ${nar.length}`);
    const isDrv = parseStorePath(info.path).name.endsWith('.drv');
    if (isDrv && !(await store.isValidPath(info.path))) {
      return await addDerivationFromNar(store, info, once(nar), DEFAULT_FARM_STORE_LIMITS.maxAtermSize + 4096);
    }
    return await store.addPath(info, once(nar));
  } catch (e) {
    const raw = asFarmError(e);
    const err = raw instanceof FarmError ? raw : new FarmError('INTERNAL', raw instanceof Error ? raw.message : String(raw));
    const message = err.message.includes(info.path) ? err.message : `${info.path}: ${err.message}`;
    throw new FarmError(err.code, `refused the upload of ${message}`, {}, { cause: e });
  }
}

/** Stores uploads given in dependency order; the first refusal stops the rest. */
export async function importUploadedPaths(store: FarmStore, items: readonly { info: PathInfo; nar: Uint8Array }[]): Promise<void> {
  for (const { info, nar } of sortByReferences(items, (i) => i.info)) await importUploadedPath(store, info, nar);
}

/**
 * Orders items so that every item comes after the items it references (Nix sends uploads in this
 * order, but a client need not). Stable for items already in order; O(n + references).
 */
export function sortByReferences<T>(items: readonly T[], infoOf: (item: T) => { readonly path: string; readonly references: readonly string[] }): T[] {
  const byPath = new Map(items.map((i) => [infoOf(i).path, i] as const));
  const done = new Set<string>();
  const out: T[] = [];
  const visit = (item: T, depth: number) => {
    const path = infoOf(item).path;
    if (done.has(path)) return;
    done.add(path);
    if (depth > 100_000) throw new FarmError('INVALID_ARGUMENT', 'references nest too deeply');
    for (const ref of infoOf(item).references) {
      const dep = ref === path ? undefined : byPath.get(ref);
      if (dep !== undefined) visit(dep, depth + 1);
    }
    out.push(item);
  };
  for (const i of items) visit(i, 0);
  return out;
}

/**
 * AddToStore (worker op 7) and AddTextToStore: the server computes the path from the content
 * address. `camStr` is `text:sha256`, `fixed:<algo>` (flat) or `fixed:r:<algo>` (recursive);
 * `data` is the file contents (text, flat) or a NAR (recursive).
 */
export async function addContentAddressed(store: FarmStore, name: string, camStr: string, references: readonly string[], data: Uint8Array): Promise<PathInfo> {
  let path: string;
  let nar: Uint8Array;
  let ca: string;
  const m = /^(text|fixed):(r:)?([a-z0-9]+)$/.exec(camStr);
  if (m === null || !isHashAlgo(m[3]!) || (m[1] === 'text' && (m[2] !== undefined || m[3] !== 'sha256'))) {
    throw new FarmError('INVALID_ARGUMENT', `unsupported content-address method '${camStr}' (expected text:sha256, fixed:<algo> or fixed:r:<algo>)`);
  }
  const algo = m[3] as 'md5' | 'sha1' | 'sha256' | 'sha512';
  if (m[1] === 'text') {
    const hash = sha256(data);
    path = makeTextPath(name, hash, references);
    nar = regularFileNar(data);
    ca = renderContentAddress({ method: 'text', hash });
  } else {
    const method: FileIngestionMethod = m[2] === undefined ? 'flat' : 'recursive';
    nar = method === 'flat' ? regularFileNar(data) : data;
    const hash = Hash.of(algo, method === 'flat' ? data : nar);
    path = makeFixedOutputPath(method, hash, name, references);
    ca = renderContentAddress({ method: 'fixed', ingestion: method, hash });
  }
  const info: PathInfo = {
    path,
    narHash: sha256(nar),
    narSize: BigInt(nar.length),
    references: sortedBytewise(new Set(references)),
    registrationTime: 0n,
    ultimate: false,
    sigs: [],
    ca,
  };
  await importUploadedPath(store, info, nar);
  return (await store.getPathInfo(path)) ?? info;
}

/**
 * QueryMissing as Nix answers it (the farm substitutes nothing): the derivations that would be
 * built — the wanted ones whose outputs are missing and, transitively, their input derivations
 * whose wanted outputs are missing — and the paths the farm cannot produce at all (invalid opaque
 * paths and sources, derivations it does not hold). O(derivations visited) store reads.
 */
export async function queryMissing(
  store: FarmStore,
  targets: readonly ({ readonly path: string } | { readonly drvPath: string; readonly outputs: 'all' | readonly string[] })[],
): Promise<{ willBuild: string[]; unknown: string[] }> {
  const willBuild = new Set<string>();
  const unknown = new Set<string>();
  const seen = new Set<string>();
  const visit = async (drvPath: string, outputs: 'all' | readonly string[]): Promise<void> => {
    const key = `${drvPath}!${outputs === 'all' ? '*' : [...outputs].sort().join(',')}`;
    if (seen.has(key)) return;
    seen.add(key);
    const drv = await store.getDerivation(drvPath);
    if (drv === undefined) {
      unknown.add(drvPath);
      return;
    }
    const wanted = [...drv.outputs].filter(([name]) => outputs === 'all' || outputs.includes(name)).map(([, o]) => o.path);
    if (!wanted.some((p) => p === '') && (await store.missing(wanted)).length === 0) return;
    willBuild.add(drvPath);
    for (const [input, names] of drv.inputDrvs) await visit(input, names);
    for (const src of await store.missing(drv.inputSrcs)) unknown.add(src);
  };
  for (const t of targets) {
    if ('path' in t) {
      if (!(await store.isValidPath(t.path))) unknown.add(t.path);
    } else await visit(t.drvPath, t.outputs);
  }
  return { willBuild: sortedBytewise(willBuild), unknown: sortedBytewise(unknown) };
}
