/**
 * Uploading a submission's bundle: ask the coordinator which of the bundle's paths it lacks
 * (QueryMissing, in batches), then send exactly those with AddPath. The store refuses a path
 * whose references it does not hold yet, so a path is sent only once every reference it has in
 * the upload is stored; within that rule up to UPLOAD_CONCURRENCY uploads run at once (the
 * coordinator verifies each derivation, so overlapping them keeps both ends busy), started in
 * the bundle's dependency-first order. Uploads carry no lease (client uploads).
 * Cost: O(items + references) bookkeeping.
 */
import { sortedBytewise } from '@farm/nix';
import type { AddPathHeader, AddPathResponse__Output } from '@farm/proto';
import { openBundleNar, type BundleItem, type UploadBundle } from '../eval/index.js';

/** Paths per QueryMissing call: ~100 bytes each keeps a request far below the message limit. */
export const QUERY_MISSING_BATCH = 10_000;

/** AddPath calls in flight at once. */
export const UPLOAD_CONCURRENCY = 8;

/** Derivations per AddDerivations call: a few hundred KiB of ATerms per message. */
export const DERIVATION_BATCH = 200;

export interface UploadApi {
  queryMissing(paths: readonly string[]): Promise<string[]>;
  addPath(header: AddPathHeader, nar: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<AddPathResponse__Output>;
  /** Many `.drv`s in one call, dependencies first; one already-valid flag per derivation. */
  addDerivations?(derivations: readonly { drvPath: string; aterm: Uint8Array }[]): Promise<boolean[]>;
}

export type UploadEvent =
  | { readonly kind: 'missing'; readonly total: number; readonly missing: number; readonly bytes: number }
  | { readonly kind: 'uploaded'; readonly path: string; readonly index: number; readonly count: number; readonly bytes: number; readonly doneBytes: number; readonly totalBytes: number; readonly alreadyValid: boolean };

export interface UploadResult {
  /** Paths of the bundle. */
  readonly total: number;
  /** The paths sent, in the order sent. */
  readonly uploaded: readonly string[];
  readonly bytes: number;
}

export function pathHeader(item: BundleItem): AddPathHeader {
  return {
    info: {
      path: item.path,
      deriver: '',
      narHash: item.narHash.toPrefixed('nix32'),
      narSize: item.narSize.toString(),
      references: sortedBytewise(item.references),
      ca: item.ca ?? '',
    },
  };
}

export async function uploadMissing(api: UploadApi, bundle: UploadBundle, onEvent: (e: UploadEvent) => void = () => undefined): Promise<UploadResult> {
  const all = bundle.items.map((i) => i.path);
  const missing = new Set<string>();
  for (let i = 0; i < all.length; i += QUERY_MISSING_BATCH) {
    for (const p of await api.queryMissing(all.slice(i, i + QUERY_MISSING_BATCH))) missing.add(p);
  }
  const toSend = bundle.items.filter((i) => missing.has(i.path));
  const totalBytes = toSend.reduce((n, i) => n + Number(i.narSize), 0);
  onEvent({ kind: 'missing', total: all.length, missing: toSend.length, bytes: totalBytes });
  const progress = { doneBytes: 0, uploaded: [] as string[], count: toSend.length, totalBytes };
  const batched = api.addDerivations === undefined ? [] : toSend.filter((i) => i.kind === 'drv' && i.aterm !== undefined);
  // Sources first, one AddPath each (no source refers to a derivation); then the derivations in
  // batches, which is where a large closure's paths are.
  const batchedPaths = new Set(batched.map((i) => i.path));
  await uploadEach(api, toSend.filter((i) => !batchedPaths.has(i.path)), missing, progress, onEvent);
  if (batched.length > 0) await uploadDerivations(api, batched, progress, onEvent);
  return { total: all.length, uploaded: progress.uploaded, bytes: progress.doneBytes };
}

interface Progress {
  doneBytes: number;
  readonly uploaded: string[];
  readonly count: number;
  readonly totalBytes: number;
}

function reportUploaded(item: BundleItem, alreadyValid: boolean, p: Progress, onEvent: (e: UploadEvent) => void): void {
  p.doneBytes += Number(item.narSize);
  p.uploaded.push(item.path);
  onEvent({ kind: 'uploaded', path: item.path, index: p.uploaded.length, count: p.count, bytes: Number(item.narSize), doneBytes: p.doneBytes, totalBytes: p.totalBytes, alreadyValid });
}

/**
 * The derivations DERIVATION_BATCH at a time, one call after another. The bundle lists paths
 * dependencies first, so `drvs` (a subsequence of it) already is in an order the store accepts.
 */
async function uploadDerivations(api: UploadApi, order: readonly BundleItem[], p: Progress, onEvent: (e: UploadEvent) => void): Promise<void> {
  for (let i = 0; i < order.length; i += DERIVATION_BATCH) {
    const batch = order.slice(i, i + DERIVATION_BATCH);
    const valid = await api.addDerivations!(batch.map((d) => ({ drvPath: d.path, aterm: d.aterm! })));
    batch.forEach((d, j) => reportUploaded(d, valid[j] === true, p, onEvent));
  }
}

/** Dependency-ordered AddPath uploads, UPLOAD_CONCURRENCY at a time. */
async function uploadEach(api: UploadApi, toSend: readonly BundleItem[], missing: ReadonlySet<string>, p: Progress, onEvent: (e: UploadEvent) => void): Promise<void> {
  // Unfinished references of each path to send (references outside the upload are stored already).
  const waitingOn = new Map<string, Set<string>>();
  const dependents = new Map<string, BundleItem[]>();
  for (const item of toSend) {
    const deps = new Set(item.references.filter((r) => r !== item.path && missing.has(r)));
    waitingOn.set(item.path, deps);
    for (const d of deps) {
      const list = dependents.get(d);
      if (list === undefined) dependents.set(d, [item]);
      else list.push(item);
    }
  }
  const ready = toSend.filter((i) => waitingOn.get(i.path)!.size === 0);
  let next = 0;
  let failure: unknown;
  let inFlight = 0;
  await new Promise<void>((resolve) => {
    const launch = (): void => {
      while (failure === undefined && inFlight < UPLOAD_CONCURRENCY && next < ready.length) {
        const item = ready[next++]!;
        inFlight++;
        api.addPath(pathHeader(item), openBundleNar(item)).then(
          (res) => {
            inFlight--;
            reportUploaded(item, res.alreadyValid, p, onEvent);
            for (const dep of dependents.get(item.path) ?? []) {
              const deps = waitingOn.get(dep.path)!;
              deps.delete(item.path);
              if (deps.size === 0) ready.push(dep);
            }
            launch();
          },
          (e: unknown) => {
            inFlight--;
            failure ??= e;
            launch();
          },
        );
      }
      if (inFlight === 0) resolve();
    };
    launch();
  });
  if (failure !== undefined) throw failure;
}
