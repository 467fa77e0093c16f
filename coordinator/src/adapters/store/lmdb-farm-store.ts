/**
 * FarmStore over LMDB + a directory of write-once NAR files (layout.ts, ../lmdb/schema.ts).
 * NARs up to `inlineNarMax` bytes (most `.drv`s and small outputs) are kept inline in LMDB
 * instead: no temp file, no fsync of a file and a directory, one commit for NAR and record.
 *
 * Upload protocol (addPath), in this order, so that a refusal or a crash at any step leaves no
 * visible trace: static checks (path, limits, content address) → already valid? drain, no-op →
 * references valid → NAR read while parsed and hashed, into memory (declared narSize ≤
 * inlineNarMax) or into a temp file in tmp/ → narSize, narHash and content hash compared with the
 * info → for a file: fsync, link into nar/ (never replacing) → one LMDB transaction writes the
 * inline NAR (unless that NAR is already there), the path info and its hash-part index.
 *
 * Invariant: a record exists only for a path whose NAR is either inline, committed in the same
 * transaction (or before), or a file durably in place before the commit. A crash before the
 * commit leaves at most a temp file (removed at open) or a complete, verified NAR file no record
 * points to yet (reused by the next upload of the same NAR); never a record without its NAR.
 * Both kinds are deduplicated by NAR hash: paths with the same NAR share one entry or one file.
 *
 * Concurrent uploads of the same path each read their own copy; the first commit wins and the
 * others find the path registered at their commit (a conditional write) and report `added: false`.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FarmError, silentLogger, systemClock, type Clock, type Logger } from '@farm/common';
import {
  isNixFormatError,
  parseDerivation,
  serialiseDerivationBytes,
  parseNarBytes,
  parseStorePath,
  sortedBytewise,
  StreamSource,
  type Derivation,
  type DrvHashMemo,
  type PathInfo,
} from '@farm/nix';
import { DEFAULT_FARM_STORE_LIMITS, type AddResult, type FarmStore, type FarmStoreLimits, type NarSource } from '../../ports/farm-store.js';
import { openLmdbEnv, type LmdbEnv } from '../lmdb/env.js';
import { pathInfoToRecord, recordToPathInfo, STORE_DATABASES, type PathInfoRecord, type StoreDatabaseName } from '../lmdb/schema.js';
import { derivationNar, parseDerivationUpload, verifyDerivationUpload, type ParsedDerivationUpload } from './derivation-upload.js';
import { drainNar, ingestNar, ingestNarToFile, MemorySink, type IngestedNar } from './ingest-nar.js';
import { narFileName, placeOnce, prepareLayout, storeLayout, type StoreLayout } from './layout.js';
import { checkPathInfo, type CheckedPathInfo } from './path-checks.js';

export interface OpenFarmStoreOptions {
  /** State directory; created if missing. */
  readonly dir: string;
  readonly logger?: Logger;
  readonly limits?: Partial<FarmStoreLimits>;
  readonly clock?: Clock;
  /**
   * NARs of at most this many bytes are stored inline in LMDB rather than as files in nar/
   * (default 64 KiB; 0 = never). Changing it between opens is safe: reads look in both places.
   */
  readonly inlineNarMax?: number;
}

export const DEFAULT_INLINE_NAR_MAX = 64 * 1024;

export async function openFarmStore(options: OpenFarmStoreOptions): Promise<LmdbFarmStore> {
  const inlineNarMax = options.inlineNarMax ?? DEFAULT_INLINE_NAR_MAX;
  if (!Number.isSafeInteger(inlineNarMax) || inlineNarMax < 0) {
    throw new FarmError('INVALID_ARGUMENT', `inlineNarMax must be a non-negative integer number of bytes, got ${inlineNarMax}`);
  }
  const layout = storeLayout(options.dir);
  const logger = options.logger ?? silentLogger();
  const removed = await prepareLayout(layout);
  if (removed > 0) logger.warn({ removed, dir: layout.tmpDir }, 'removed unfinished uploads left by a crash');
  const env = openLmdbEnv({ file: layout.dbFile, databases: STORE_DATABASES });
  return new LmdbFarmStore(layout, env, { ...DEFAULT_FARM_STORE_LIMITS, ...options.limits }, options.clock ?? systemClock, logger, inlineNarMax);
}

/** A path checked and received, waiting for its commit. */
interface PreparedPath {
  readonly stored: PathInfo;
  readonly inline: Buffer | undefined;
  readonly extra: (() => void) | undefined;
}

/** Paths prepared earlier in the same batch (anything with `has`: a Set, or the batch's Map). */
type PendingPaths = { has(path: string): boolean };

const NO_PENDING: PendingPaths = new Set<string>();

/** Entries (about 200 bytes each) before the derivation-hash memo starts over. */
const MAX_DRV_HASH_MEMO = 250_000;

/**
 * Parsed derivations kept in memory: every assignment reads its derivation and its input
 * derivations, which were parsed moments ago for the job they belong to (re-reading and
 * re-parsing them was ~4 % of the coordinator's CPU on the throughput benchmark). Derivations are
 * immutable (a store path names its content) and their types are read-only, so sharing is safe.
 */
const MAX_PARSED_DERIVATIONS = 4096;
/** …and at most this many ATerm bytes of them (a parsed derivation takes a few times its text). */
const MAX_PARSED_DERIVATION_BYTES = 8 * 1024 * 1024;

export class LmdbFarmStore implements FarmStore {
  private closed = false;
  private readonly drvHashMemo: DrvHashMemo = new Map();
  private readonly parsedDerivations = new Map<string, { readonly drv: Derivation; readonly bytes: number }>();
  private parsedBytes = 0;
  /** Valid paths and their NAR bytes: counted on first use (one scan), then kept as paths are added. */
  private usageTotals: { paths: number; narBytes: number } | undefined;

  constructor(
    readonly layout: StoreLayout,
    private readonly env: LmdbEnv<StoreDatabaseName>,
    readonly limits: FarmStoreLimits,
    private readonly clock: Clock,
    private readonly logger: Logger,
    readonly inlineNarMax: number = DEFAULT_INLINE_NAR_MAX,
  ) {}

  private get dbs() {
    if (this.closed) throw new FarmError('UNAVAILABLE', 'the farm store is closed');
    return this.env.dbs;
  }

  private valid(path: string): boolean {
    return this.dbs.pathInfos.doesExist(path);
  }

  private info(path: string): PathInfo | undefined {
    const r = this.dbs.pathInfos.get(path) as PathInfoRecord | undefined;
    return r === undefined ? undefined : recordToPathInfo(path, r);
  }

  async queryValidPaths(paths: Iterable<string>): Promise<Set<string>> {
    const out = new Set<string>();
    for (const p of paths) if (this.valid(p)) out.add(p);
    return out;
  }

  async isValidPath(path: string): Promise<boolean> {
    return this.valid(path);
  }

  async getPathInfo(path: string): Promise<PathInfo | undefined> {
    return this.info(path);
  }

  async queryPathFromHashPart(hashPart: string): Promise<string | undefined> {
    return this.dbs.hashParts.get(hashPart) as string | undefined;
  }

  /** Breadth-first over references: each path's record is read once, so O(closure size). */
  async closure(paths: Iterable<string>): Promise<string[]> {
    const seen = new Set<string>();
    const queue: string[] = [];
    for (const p of paths) {
      if (!seen.has(p)) {
        seen.add(p);
        queue.push(p);
      }
    }
    for (let i = 0; i < queue.length; i++) {
      const p = queue[i]!;
      const r = this.dbs.pathInfos.get(p) as PathInfoRecord | undefined;
      if (r === undefined) throw new FarmError('NOT_FOUND', `${p} is not valid in the farm store`, { path: p });
      for (const ref of r.references) {
        if (!seen.has(ref)) {
          seen.add(ref);
          queue.push(ref);
        }
      }
    }
    return sortedBytewise(seen);
  }

  async missing(paths: Iterable<string>): Promise<string[]> {
    return sortedBytewise(new Set([...paths].filter((p) => !this.valid(p))));
  }

  async addPath(info: PathInfo, nar: NarSource): Promise<AddResult> {
    return this.addPathWith(info, nar, undefined);
  }

  /** addPath, with `extra` writes done in the same transaction as the path info. */
  private async addPathWith(info: PathInfo, nar: NarSource, extra: (() => void) | undefined): Promise<AddResult> {
    const prepared = await this.preparePath(info, nar, extra, NO_PENDING);
    return prepared === undefined ? { added: false } : this.commitPath(prepared);
  }

  /**
   * Everything addPath does before its commit: checks, the NAR received and verified (and, for a
   * file, placed). undefined = already valid (the NAR drained). `pending` are paths prepared in
   * the same batch, ahead of this one, which count as valid references.
   */
  private async preparePath(info: PathInfo, nar: NarSource, extra: (() => void) | undefined, pending: PendingPaths): Promise<PreparedPath | undefined> {
    const checked = checkPathInfo(info, this.limits);
    if (this.valid(info.path)) {
      await drainNar(nar);
      return undefined;
    }
    this.assertReferencesValid(info.path, checked.references, pending);

    // Small NARs go to memory and then into the commit; the rest to a file placed before it.
    let inline: Buffer | undefined;
    if (this.inlineNarMax > 0 && info.narSize <= BigInt(this.inlineNarMax)) {
      const sink = new MemorySink(Number(info.narSize));
      await this.receive(info, checked, () => ingestNar(nar, sink, Number(info.narSize), checked.expectedContent));
      inline = sink.bytes();
    } else {
      const tmp = join(this.layout.tmpDir, `${randomUUID()}.nar`);
      try {
        await this.receive(info, checked, () => ingestNarToFile(nar, tmp, Number(info.narSize), checked.expectedContent));
        await placeOnce(tmp, narFileName(this.layout, info.narHash), this.layout.narDir);
      } finally {
        await rm(tmp, { force: true });
      }
    }
    const stored: PathInfo = { ...info, references: checked.references, registrationTime: BigInt(Math.floor(this.clock.now() / 1000)) };
    return { stored, inline, extra };
  }

  /**
   * The commit of a prepared path. Conditional puts (lmdb-js ifNoExists): they apply, atomically
   * and in one commit, only if no one registered the path meanwhile, and the condition is
   * checked on lmdb's writer thread with no callback back into the event loop. The references
   * were checked when it was prepared and stay valid: nothing removes a path from the store.
   * Commits issued in one event turn share one LMDB transaction (and one sync).
   */
  private async commitPath({ stored, inline, extra }: PreparedPath): Promise<AddResult> {
    const narKey = stored.narHash.nix32;
    const dbs = this.dbs;
    const added = await dbs.pathInfos.ifNoExists(stored.path, () => {
      if (inline !== undefined && !dbs.inlineNars.doesExist(narKey)) dbs.inlineNars.put(narKey, inline);
      dbs.pathInfos.put(stored.path, pathInfoToRecord(stored));
      dbs.hashParts.put(parseStorePath(stored.path).hashPart, stored.path);
      extra?.();
    });
    if (added) this.logger.debug({ path: stored.path, narSize: stored.narSize.toString(), inline: inline !== undefined }, 'path added');
    if (added && this.usageTotals !== undefined) {
      this.usageTotals.paths++;
      this.usageTotals.narBytes += Number(stored.narSize);
    }
    return { added };
  }

  /**
   * Runs `ingest` (the NAR read into a sink, limited to the declared narSize) and compares what
   * it saw with the info: size, hash, content address. Throws INVALID_ARGUMENT naming the mismatch.
   */
  private async receive(info: PathInfo, checked: CheckedPathInfo, ingest: () => Promise<IngestedNar>): Promise<void> {
    const declared = Number(info.narSize);
    let ingested: IngestedNar;
    try {
      ingested = await ingest();
    } catch (e) {
      if (isNixFormatError(e, 'NAR_TOO_LARGE') && /exceed the limit/.test(e.message)) {
        throw new FarmError('INVALID_ARGUMENT', `${info.path}: NAR size mismatch: expected ${declared} bytes, the NAR is longer`, { expected: String(declared) }, { cause: e });
      }
      throw e;
    }
    if (ingested.narSize !== declared) {
      throw new FarmError('INVALID_ARGUMENT', `${info.path}: NAR size mismatch: expected ${declared} bytes, got ${ingested.narSize}`, {
        expected: String(declared),
        actual: String(ingested.narSize),
      });
    }
    if (!ingested.narHash.equals(info.narHash)) {
      const expected = info.narHash.toPrefixed('nix32');
      const actual = ingested.narHash.toPrefixed('nix32');
      throw new FarmError('INVALID_ARGUMENT', `${info.path}: NAR hash mismatch: expected ${expected}, got ${actual}`, { expected, actual });
    }
    const want = checked.expectedContent;
    if (want !== undefined && (ingested.contentHash === undefined || !ingested.contentHash.equals(want.hash))) {
      throw new FarmError(
        'INVALID_ARGUMENT',
        `${info.path}: content does not match its content address '${info.ca ?? ''}': got ${ingested.contentHash?.toPrefixed('nix32') ?? 'nothing'}`,
      );
    }
  }

  private assertReferencesValid(path: string, references: readonly string[], pending: PendingPaths = NO_PENDING): void {
    for (const ref of references) {
      if (ref !== path && !pending.has(ref) && !this.valid(ref)) {
        throw new FarmError('FAILED_PRECONDITION', `${path}: reference ${ref} is not valid in the farm store (upload it first)`, { reference: ref });
      }
    }
  }

  private requireInfo(path: string): PathInfo {
    const info = this.info(path);
    if (info === undefined) throw new FarmError('NOT_FOUND', `${path} is not valid in the farm store`, { path });
    return info;
  }

  /** The inline NAR of `info`, if it is stored inline (a copy: lmdb's get returns a fresh buffer). */
  private inlineNar(info: PathInfo): Buffer | undefined {
    return this.dbs.inlineNars.get(info.narHash.nix32) as Buffer | undefined;
  }

  /** The NAR file of `info`, checked to exist (INTERNAL if a record lost its NAR). */
  private async existingNarFile(path: string, info: PathInfo): Promise<string> {
    const file = narFileName(this.layout, info.narHash);
    try {
      await access(file);
    } catch (e) {
      throw new FarmError('INTERNAL', `the NAR of ${path} (${file}) is missing from the farm store`, { path }, { cause: e });
    }
    return file;
  }

  /**
   * Absolute file name of the NAR of a valid path, or undefined when that NAR is stored inline
   * (NOT_FOUND for a path that is not valid). Not part of the FarmStore port: for tests and admin.
   */
  async narFile(path: string): Promise<string | undefined> {
    const info = this.requireInfo(path);
    if (this.dbs.inlineNars.doesExist(info.narHash.nix32)) return undefined;
    return this.existingNarFile(path, info);
  }

  async narStream(path: string): Promise<Readable> {
    const info = this.requireInfo(path);
    const inline = this.inlineNar(info);
    if (inline !== undefined) return Readable.from([inline], { objectMode: false });
    return createReadStream(await this.existingNarFile(path, info));
  }

  async inlineNarOf(path: string): Promise<Uint8Array | undefined> {
    const info = this.info(path);
    return info === undefined ? undefined : this.inlineNar(info);
  }

  /** The whole NAR of a valid path in memory (for small NARs: `.drv`s read back as ATerms). */
  private async narBytes(path: string): Promise<Uint8Array> {
    const info = this.requireInfo(path);
    return this.inlineNar(info) ?? (await readFile(await this.existingNarFile(path, info)));
  }

  async addDerivation(drvPath: string, aterm: Uint8Array | string): Promise<AddResult> {
    const [result] = await this.addDerivations([{ drvPath, aterm }]);
    return result!;
  }

  /**
   * Verifies the derivations in order — each may use those before it as inputs — and stores all
   * of them in one commit (one sync instead of one per derivation: uploading a 1,000-derivation
   * closure was bound by those syncs). If one is refused, the ones before it are still stored
   * and then its error is thrown, as if they had been added one at a time.
   */
  async addDerivations(list: readonly { readonly drvPath: string; readonly aterm: Uint8Array | string }[]): Promise<AddResult[]> {
    const batch = new Map<string, ParsedDerivationUpload>();
    const prepared: (PreparedPath | undefined)[] = [];
    let failure: { error: unknown } | undefined;
    for (const { drvPath, aterm } of list) {
      try {
        prepared.push(await this.prepareDerivation(drvPath, aterm, batch));
      } catch (error) {
        failure = { error };
        break;
      }
    }
    // No await between these commits: lmdb-js puts them in one transaction.
    const results = await Promise.all(prepared.map((p) => (p === undefined ? { added: false } : this.commitPath(p))));
    // The scheduler reads these derivations next (submit, then every assignment): keep them parsed.
    for (const [drvPath, upload] of batch) this.rememberParsed(drvPath, upload.drv, upload.bytes.length);
    if (failure !== undefined) throw failure.error;
    return results;
  }

  /** addDerivation's checks, up to its commit; undefined = already stored (or earlier in `batch`). */
  private async prepareDerivation(drvPath: string, aterm: Uint8Array | string, batch: Map<string, ParsedDerivationUpload>): Promise<PreparedPath | undefined> {
    const upload = parseDerivationUpload(drvPath, aterm, this.limits);
    const known = batch.get(drvPath)?.bytes ?? (this.valid(drvPath) ? (this.dbs.derivations.get(drvPath) as Uint8Array | undefined) : undefined);
    if (known !== undefined) {
      // Same path ⇒ same bytes were verified before; still refuse bytes that do not belong here.
      if (!Buffer.from(known).equals(Buffer.from(upload.bytes))) {
        throw new FarmError('INVALID_ARGUMENT', `${drvPath}: the store already holds different contents for this derivation`);
      }
      return undefined;
    }
    this.assertReferencesValid(drvPath, upload.references, batch);
    // Stored derivations are verified and immutable, so their hashes modulo are memoised across
    // uploads: without it every upload re-hashed its whole input closure (quadratic on deep DAGs).
    if (this.drvHashMemo.size > MAX_DRV_HASH_MEMO) this.drvHashMemo.clear();
    await verifyDerivationUpload(drvPath, upload, (p) => batch.get(p)?.drv ?? this.readInputDerivation(p), this.drvHashMemo);
    // The NAR is built in memory and still goes through addPath's reader and checks (cheap for
    // a .drv, and the text content address is verified against the bytes actually stored).
    const { nar, info } = derivationNar(drvPath, upload);
    const extra = (): void => {
      this.dbs.derivations.put(drvPath, Buffer.from(upload.bytes));
    };
    const prepared = await this.preparePath(info, new StreamSource(nar, 'NAR_TRUNCATED'), extra, batch);
    if (prepared !== undefined) batch.set(drvPath, upload);
    return prepared;
  }

  async getDerivationAterm(drvPath: string): Promise<Uint8Array | undefined> {
    const stored = this.dbs.derivations.get(drvPath) as Uint8Array | undefined;
    if (stored !== undefined) return new Uint8Array(stored);
    if (!drvPath.endsWith('.drv') || !this.valid(drvPath)) return undefined;
    // A .drv uploaded with addPath (as `nix copy` does): its NAR is a single file, the ATerm.
    const chunks: Uint8Array[] = [];
    await parseNarBytes(await this.narBytes(drvPath), { contents: (c) => void chunks.push(Buffer.from(c)) });
    return Buffer.concat(chunks);
  }

  async getDerivation(drvPath: string): Promise<Derivation | undefined> {
    const cached = this.parsedDerivations.get(drvPath);
    if (cached !== undefined) return cached.drv;
    const bytes = await this.getDerivationAterm(drvPath);
    if (bytes === undefined) return undefined;
    const drv = parseDerivation(bytes);
    this.rememberParsed(drvPath, drv, bytes.length);
    return drv;
  }

  async recordBasicDerivation(drvPath: string, drv: Derivation): Promise<'stored' | 'known'> {
    const sp = parseStorePath(drvPath);
    if (!sp.name.endsWith('.drv')) throw new FarmError('INVALID_ARGUMENT', `'${drvPath}' is not a .drv store path`);
    if (drv.inputDrvs.size > 0) throw new FarmError('INVALID_ARGUMENT', `${drvPath}: a recorded basic derivation has no input derivations`);
    if ((await this.getDerivation(drvPath)) !== undefined) return 'known';
    const bytes = serialiseDerivationBytes(drv);
    if (bytes.length > this.limits.maxAtermSize) throw new FarmError('INVALID_ARGUMENT', `${drvPath}: derivation of ${bytes.length} bytes exceeds the limit of ${this.limits.maxAtermSize} bytes`);
    await this.dbs.derivations.put(drvPath, Buffer.from(bytes));
    this.rememberParsed(drvPath, drv, bytes.length);
    return 'stored';
  }

  private rememberParsed(drvPath: string, drv: Derivation, bytes: number): void {
    const previous = this.parsedDerivations.get(drvPath);
    if (previous !== undefined) {
      this.parsedDerivations.delete(drvPath);
      this.parsedBytes -= previous.bytes;
    }
    this.parsedDerivations.set(drvPath, { drv, bytes });
    this.parsedBytes += bytes;
    // Oldest first (a Map iterates in insertion order): the DAG's recent layers stay.
    while (this.parsedDerivations.size > MAX_PARSED_DERIVATIONS || this.parsedBytes > MAX_PARSED_DERIVATION_BYTES) {
      const [oldest, entry] = this.parsedDerivations.entries().next().value!;
      this.parsedDerivations.delete(oldest);
      this.parsedBytes -= entry.bytes;
    }
  }

  private async readInputDerivation(drvPath: string): Promise<Derivation> {
    const drv = await this.getDerivation(drvPath);
    if (drv === undefined) throw new FarmError('FAILED_PRECONDITION', `input derivation ${drvPath} is not in the farm store (upload it first)`, { path: drvPath });
    return drv;
  }

  /**
   * Valid paths and the sum of their NAR sizes (each path counted, even where paths share a NAR),
   * for metrics: one scan of the path infos on the first call, then O(1). (An upload whose commit
   * lands during that first scan may be counted twice: a metric, not an invariant.)
   */
  usage(): { paths: number; narBytes: number } {
    if (this.usageTotals === undefined) {
      let paths = 0;
      let narBytes = 0;
      for (const { value } of this.dbs.pathInfos.getRange()) {
        paths++;
        narBytes += Number((value as PathInfoRecord).narSize);
      }
      this.usageTotals = { paths, narBytes };
    }
    return { ...this.usageTotals };
  }

  /** Every key of every database, sorted (for admin tools and tests comparing whole states). */
  inventory(): { pathInfos: string[]; hashParts: string[]; derivations: string[]; inlineNars: string[] } {
    const keys = (db: { getKeys(): Iterable<unknown> }) => sortedBytewise([...db.getKeys()].map(String));
    return {
      pathInfos: keys(this.dbs.pathInfos),
      hashParts: keys(this.dbs.hashParts),
      derivations: keys(this.dbs.derivations),
      inlineNars: keys(this.dbs.inlineNars),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.env.close();
  }
}
