/**
 * The agent's local store: `<storeRoot>/<hash>-<name>` for every store path it holds, where
 * existence means complete and verified (paths only ever appear by rename(2)).
 *
 * fetchMissing brings a build's input closure in: each missing path's NAR (from the
 * coordinator's GetNar) is unpacked at a temporary name inside the store root while the
 * unpacker hashes and counts it, then checked against the PathInfo's narHash and narSize,
 * canonicalised (mtime 1, modes 0444/0555, as Nix's store has them) and renamed into place. A
 * mismatch removes everything it wrote. Two builds that share an input fetch it once: the
 * second waits for the first's promise. Paths are parsed as store paths first, so a hostile
 * path cannot name anything outside the store root.
 */
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FarmError } from '@farm/common';
import { Hash, parseStorePath, unpackNar } from '@farm/nix';
import type { PathInfo__Output } from '@farm/proto';
import { canonicalisePathMetaData } from '../build/canonicalise.js';
import type { NarFetcher } from '../transfer/nar-transfer.js';

/** Temporary names start with '.', which no store path base name can (nix32 hash first). */
const TEMP_PREFIX = '.fetch-';
const FETCH_CONCURRENCY = 4;

export class LocalStore {
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(readonly root: string) {
    mkdirSync(root, { recursive: true });
  }

  /** Where `path` (a full store path) lives on this host. */
  localPath(path: string): string {
    return join(this.root, parseStorePath(path).baseName);
  }

  has(path: string): boolean {
    return lstatSync(this.localPath(path), { throwIfNoEntry: false }) !== undefined;
  }

  /**
   * Fetches every input that is not here yet (at most FETCH_CONCURRENCY at once). Rejects with
   * the first failure, after the other fetches it started have settled.
   */
  async fetchMissing(inputs: readonly PathInfo__Output[], fetchNar: NarFetcher, signal?: AbortSignal): Promise<{ fetched: number; bytes: number }> {
    for (const info of inputs) this.localPath(info.path); // reject a bad path before any I/O
    const queue = inputs.filter((i) => !this.has(i.path));
    let fetched = 0;
    let bytes = 0;
    const worker = async (): Promise<void> => {
      for (let info = queue.shift(); info !== undefined; info = queue.shift()) {
        try {
          signal?.throwIfAborted();
          if (await this.fetchOnce(info, fetchNar, signal)) {
            fetched++;
            bytes += Number(info.narSize);
          }
        } catch (e) {
          queue.length = 0; // the build cannot run: start no further fetches
          throw e;
        }
      }
    };
    const results = await Promise.allSettled(Array.from({ length: Math.min(FETCH_CONCURRENCY, queue.length) }, worker));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    return { fetched, bytes };
  }

  /** Removes temporary entries a killed agent left behind; call before any fetch starts. */
  removeLeftovers(): number {
    let n = 0;
    for (const name of readdirSync(this.root)) {
      if (name.startsWith('.')) {
        rmSync(join(this.root, name), { recursive: true, force: true });
        n++;
      }
    }
    return n;
  }

  /** True when this call did the fetch, false when the path was (or became) here otherwise. */
  private async fetchOnce(info: PathInfo__Output, fetchNar: NarFetcher, signal?: AbortSignal): Promise<boolean> {
    const running = this.inFlight.get(info.path);
    if (running !== undefined) {
      try {
        await running;
        return false;
      } catch {
        // That fetch belonged to another build and failed (or was aborted with it): try ourselves.
        return this.fetchOnce(info, fetchNar, signal);
      }
    }
    if (this.has(info.path)) return false;
    const p = this.fetchOne(info, fetchNar, signal).finally(() => this.inFlight.delete(info.path));
    this.inFlight.set(info.path, p);
    await p;
    return true;
  }

  private async fetchOne(info: PathInfo__Output, fetchNar: NarFetcher, signal?: AbortSignal): Promise<void> {
    const { baseName } = parseStorePath(info.path);
    const expected = parseExpected(info);
    const tmp = join(this.root, `${TEMP_PREFIX}${randomBytes(6).toString('hex')}-${baseName}`);
    try {
      let got;
      try {
        // maxNarSize stops a server that sends more than it announced before it fills the disk.
        got = await unpackNar(fetchNar(info.path, signal), tmp, { limits: { maxNarSize: expected.narSize } });
      } catch (e) {
        signal?.throwIfAborted();
        // The unpacker wraps what the source threw (a gRPC failure): surface that one.
        const sent = farmErrorIn(e);
        if (sent !== undefined) throw new FarmError(sent.code, `cannot fetch ${info.path}: ${sent.message}`, { path: info.path }, { cause: e });
        throw new FarmError('UNAVAILABLE', `cannot fetch ${info.path}: ${(e as Error).message}`, { path: info.path }, { cause: e });
      }
      if (!got.narHash.equals(expected.narHash) || got.narSize !== expected.narSize) {
        throw new FarmError(
          'FAILED_PRECONDITION',
          `NAR of ${info.path} does not match its path info: got ${got.narHash.toPrefixed('nix32')} (${got.narSize} bytes), expected ${expected.narHash.toPrefixed('nix32')} (${expected.narSize} bytes)`,
          { path: info.path },
        );
      }
      canonicalisePathMetaData(tmp);
      try {
        renameSync(tmp, join(this.root, baseName));
      } catch (e) {
        // Someone else (another agent process on this state dir) completed it first: theirs is as good.
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
}

function farmErrorIn(e: unknown): FarmError | undefined {
  for (let c = e, depth = 0; c !== undefined && c !== null && depth < 8; c = (c as { cause?: unknown }).cause, depth++) {
    if (c instanceof FarmError) return c;
  }
  return undefined;
}

function parseExpected(info: PathInfo__Output): { narHash: Hash; narSize: number } {
  let narHash: Hash;
  try {
    narHash = Hash.parse(info.narHash);
  } catch (e) {
    throw new FarmError('INVALID_ARGUMENT', `path info of ${info.path} has a bad narHash '${info.narHash}': ${(e as Error).message}`, { path: info.path });
  }
  if (narHash.algo !== 'sha256') throw new FarmError('INVALID_ARGUMENT', `path info of ${info.path} has a ${narHash.algo} narHash; sha256 expected`, { path: info.path });
  const narSize = Number(info.narSize);
  if (!Number.isSafeInteger(narSize) || narSize <= 0) throw new FarmError('INVALID_ARGUMENT', `path info of ${info.path} has a bad narSize '${info.narSize}'`, { path: info.path });
  return { narHash, narSize };
}
