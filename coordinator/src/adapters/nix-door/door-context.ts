/**
 * What a door session works against, and the byte plumbing both protocols share: writes that
 * respect the client's backpressure, and a store-path check that turns a malformed path from a
 * client into a clear error instead of a crash deeper down.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { FarmError, type Logger } from '@farm/common';
import { isStorePath, type PathInfo } from '@farm/nix';
import type { FarmStore } from '../../ports/farm-store.js';
import type { DoorBuilds } from '../../service/door-builds.js';

export interface DoorContext {
  readonly store: FarmStore;
  readonly builds: DoorBuilds;
  readonly logger: Logger;
  /** Largest single upload (NAR, framed stream) a session accepts, in bytes. */
  readonly maxUploadBytes: number;
  /** Reported to worker-protocol clients as the daemon's version. */
  readonly version: string;
  /**
   * The signatures to show for a path (the farm key's first), so that `nix copy --from` the door
   * works with the farm's key in trusted-public-keys; absent = the path's own signatures only.
   */
  readonly signaturesOf?: ((info: PathInfo) => string[]) | undefined;
}

/** The path info as the door shows it: with the farm's signatures when it has a key. */
export function shownPathInfo(ctx: DoorContext, info: PathInfo): PathInfo {
  return ctx.signaturesOf === undefined ? info : { ...info, sigs: ctx.signaturesOf(info) };
}

/** Writes chunks in order, waiting for 'drain' when the stream asks to. */
export async function writeAll(out: Writable, chunks: Iterable<Uint8Array>): Promise<void> {
  for (const c of chunks) {
    if (out.destroyed) throw new FarmError('UNAVAILABLE', 'the client went away');
    if (!out.write(c)) await Promise.race([once(out, 'drain'), once(out, 'close')]);
  }
}

/** Copies a readable (a NAR from the store) to the client, with backpressure. */
export async function pipeTo(out: Writable, source: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const chunk of source) await writeAll(out, [chunk]);
}

export function storePathArg(path: string, what: string): string {
  if (!isStorePath(path)) throw new FarmError('INVALID_ARGUMENT', `${what}: '${path.slice(0, 300)}' is not a store path`);
  return path;
}

export function storePathArgs(paths: readonly string[], what: string): string[] {
  return paths.map((p) => storePathArg(p, what));
}
