/**
 * Uploading a submission's bundle: ask the coordinator which of the bundle's paths it lacks
 * (QueryMissing, in batches), then send exactly those with AddPath, in the bundle's
 * dependency-first order, one at a time — the store refuses a path whose references it does not
 * hold yet, so order matters more than parallelism here. Uploads carry no lease (client uploads).
 */
import { sortedBytewise } from '@farm/nix';
import type { AddPathHeader, AddPathResponse__Output } from '@farm/proto';
import { openBundleNar, type BundleItem, type UploadBundle } from '../eval/index.js';

/** Paths per QueryMissing call: ~100 bytes each keeps a request far below the message limit. */
export const QUERY_MISSING_BATCH = 10_000;

export interface UploadApi {
  queryMissing(paths: readonly string[]): Promise<string[]>;
  addPath(header: AddPathHeader, nar: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<AddPathResponse__Output>;
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
  let doneBytes = 0;
  const uploaded: string[] = [];
  for (const [index, item] of toSend.entries()) {
    const res = await api.addPath(pathHeader(item), openBundleNar(item));
    doneBytes += Number(item.narSize);
    uploaded.push(item.path);
    onEvent({ kind: 'uploaded', path: item.path, index: index + 1, count: toSend.length, bytes: Number(item.narSize), doneBytes, totalBytes, alreadyValid: res.alreadyValid });
  }
  return { total: all.length, uploaded, bytes: doneBytes };
}
