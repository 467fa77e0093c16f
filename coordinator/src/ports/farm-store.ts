/**
 * FarmStore: the coordinator's store of valid paths — what Nix calls a store, minus building.
 * It holds path infos (narHash, narSize, references, …), the NAR of every valid path and the
 * ATerm of every uploaded derivation, and answers the closure questions the scheduler and the
 * upload protocol ask ("which of these do you have?", "what do I still need to send?").
 *
 * Invariants every implementation keeps:
 * - A path is valid only when its NAR is fully stored and matches narHash/narSize of its info.
 * - Every reference of a valid path is valid (or is the path itself): closures are complete.
 * - A refused upload leaves the store exactly as it was.
 * - A `.drv` is valid only when its drv path and output paths are what Nix would compute.
 */
import type { Readable } from 'node:stream';
import type { ByteSource, Derivation, PathInfo } from '@farm/nix';

/** NAR bytes as they arrive: chunks from a stream, or a ByteSource positioned at the NAR. */
export type NarSource = AsyncIterable<Uint8Array> | ByteSource;

export interface FarmStoreLimits {
  /** Largest NAR accepted (narSize), in bytes. */
  readonly maxNarSize: number;
  /** Largest `.drv` ATerm accepted, in bytes. */
  readonly maxAtermSize: number;
  /** Most references one path (or derivation) may have. */
  readonly maxReferences: number;
}

export const DEFAULT_FARM_STORE_LIMITS: FarmStoreLimits = {
  maxNarSize: 64 * 1024 * 1024 * 1024,
  maxAtermSize: 16 * 1024 * 1024,
  maxReferences: 100_000,
};

export interface AddResult {
  /** False when the path was already valid (nothing was written). */
  readonly added: boolean;
}

export interface FarmStore {
  /** The subset of `paths` that is valid. */
  queryValidPaths(paths: Iterable<string>): Promise<Set<string>>;
  isValidPath(path: string): Promise<boolean>;
  getPathInfo(path: string): Promise<PathInfo | undefined>;
  /** The valid path whose hash part is `hashPart`, if any. */
  queryPathFromHashPart(hashPart: string): Promise<string | undefined>;
  /** `paths` and everything they reference, transitively, sorted bytewise. Unknown roots are NOT_FOUND. */
  closure(paths: Iterable<string>): Promise<string[]>;
  /** The paths of `paths` that are not valid, sorted bytewise and without duplicates. */
  missing(paths: Iterable<string>): Promise<string[]>;

  /**
   * Verifies and stores one path. The NAR is checked against `info` (hash, size, well-formed,
   * content address); references must already be valid. Already valid → no-op (input drained).
   * `registrationTime` is set by the store.
   */
  addPath(info: PathInfo, nar: NarSource): Promise<AddResult>;
  /** The NAR of a valid path (NOT_FOUND otherwise). */
  narStream(path: string): Promise<Readable>;
  /** The NAR of a valid path when the store holds it inline (small); undefined otherwise. */
  inlineNarOf(path: string): Promise<Uint8Array | undefined>;

  /**
   * Verifies a `.drv` (drv path and output paths recomputed; input derivations and sources must
   * already be in the store) and stores it as a valid path plus its parsed form.
   */
  addDerivation(drvPath: string, aterm: Uint8Array | string): Promise<AddResult>;
  /**
   * addDerivation for many, in order (each may use earlier ones as inputs), stored together. A
   * refusal throws after the derivations before it are stored.
   */
  addDerivations(list: readonly { readonly drvPath: string; readonly aterm: Uint8Array | string }[]): Promise<AddResult[]>;
  getDerivation(drvPath: string): Promise<Derivation | undefined>;
  /**
   * Records the derivation a Nix client sent with BuildDerivation (spec §5.4: no inputDrvs,
   * inputSrcs = the whole input closure) so that it can be scheduled like any other. Its drv
   * path does NOT become valid — the farm never saw the real `.drv`, and its output paths can
   * only be taken as given. A derivation already known under that path is kept ('known'); an
   * uploaded real `.drv` later replaces a recorded one.
   */
  recordBasicDerivation(drvPath: string, drv: Derivation): Promise<'stored' | 'known'>;
  getDerivationAterm(drvPath: string): Promise<Uint8Array | undefined>;

  close(): Promise<void>;
}
