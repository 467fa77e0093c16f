/**
 * FarmStore over LMDB + a directory of write-once NAR files (layout.ts, ../lmdb/schema.ts).
 *
 * Upload protocol (addPath), in this order, so that a refusal or a crash at any step leaves no
 * visible trace: static checks (path, limits, content address) → already valid? drain, no-op →
 * references valid → NAR streamed into tmp/ while parsed and hashed → narSize, narHash and
 * content hash compared with the info → fsync → link into nar/ (never replacing) → one LMDB
 * transaction writes the path info and its hash-part index. A crash before the commit leaves at
 * most a temp file (removed at open) or a complete, verified NAR file no record points to yet
 * (reused by the next upload of the same NAR); never a record without its file.
 *
 * Concurrent uploads of the same path each stream to their own temp file; the first commit wins
 * and the others find the path valid inside their transaction and report `added: false`.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FarmError, silentLogger, systemClock, type Clock, type Logger } from '@farm/common';
import {
  isNixFormatError,
  parseDerivation,
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
import { derivationNar, parseDerivationUpload, verifyDerivationUpload } from './derivation-upload.js';
import { drainNar, ingestNar } from './ingest-nar.js';
import { narFileName, placeOnce, prepareLayout, storeLayout, type StoreLayout } from './layout.js';
import { checkPathInfo } from './path-checks.js';

export interface OpenFarmStoreOptions {
  /** State directory; created if missing. */
  readonly dir: string;
  readonly logger?: Logger;
  readonly limits?: Partial<FarmStoreLimits>;
  readonly clock?: Clock;
}

export async function openFarmStore(options: OpenFarmStoreOptions): Promise<LmdbFarmStore> {
  const layout = storeLayout(options.dir);
  const logger = options.logger ?? silentLogger();
  const removed = await prepareLayout(layout);
  if (removed > 0) logger.warn({ removed, dir: layout.tmpDir }, 'removed unfinished uploads left by a crash');
  const env = openLmdbEnv({ file: layout.dbFile, databases: STORE_DATABASES });
  return new LmdbFarmStore(layout, env, { ...DEFAULT_FARM_STORE_LIMITS, ...options.limits }, options.clock ?? systemClock, logger);
}

/** Entries (about 200 bytes each) before the derivation-hash memo starts over. */
const MAX_DRV_HASH_MEMO = 250_000;

export class LmdbFarmStore implements FarmStore {
  private closed = false;
  private readonly drvHashMemo: DrvHashMemo = new Map();

  constructor(
    readonly layout: StoreLayout,
    private readonly env: LmdbEnv<StoreDatabaseName>,
    readonly limits: FarmStoreLimits,
    private readonly clock: Clock,
    private readonly logger: Logger,
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
    const checked = checkPathInfo(info, this.limits);
    if (this.valid(info.path)) {
      await drainNar(nar);
      return { added: false };
    }
    this.assertReferencesValid(info.path, checked.references);

    const tmp = join(this.layout.tmpDir, `${randomUUID()}.nar`);
    try {
      const declared = Number(info.narSize);
      let ingested;
      try {
        ingested = await ingestNar(nar, tmp, declared, checked.expectedContent);
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
      await placeOnce(tmp, narFileName(this.layout, info.narHash), this.layout.narDir);
    } finally {
      await rm(tmp, { force: true });
    }

    const stored: PathInfo = { ...info, references: checked.references, registrationTime: BigInt(Math.floor(this.clock.now() / 1000)) };
    const added = await this.env.transaction(() => {
      if (this.valid(info.path)) return false;
      this.assertReferencesValid(info.path, checked.references);
      this.dbs.pathInfos.put(info.path, pathInfoToRecord(stored));
      this.dbs.hashParts.put(parseStorePath(info.path).hashPart, info.path);
      extra?.();
      return true;
    });
    if (added) this.logger.debug({ path: info.path, narSize: info.narSize.toString() }, 'path added');
    return { added };
  }

  private assertReferencesValid(path: string, references: readonly string[]): void {
    for (const ref of references) {
      if (ref !== path && !this.valid(ref)) {
        throw new FarmError('FAILED_PRECONDITION', `${path}: reference ${ref} is not valid in the farm store (upload it first)`, { reference: ref });
      }
    }
  }

  async narFile(path: string): Promise<string> {
    const info = this.info(path);
    if (info === undefined) throw new FarmError('NOT_FOUND', `${path} is not valid in the farm store`, { path });
    const file = narFileName(this.layout, info.narHash);
    try {
      await access(file);
    } catch (e) {
      throw new FarmError('INTERNAL', `the NAR of ${path} (${file}) is missing from the farm store`, { path }, { cause: e });
    }
    return file;
  }

  async narStream(path: string): Promise<Readable> {
    return createReadStream(await this.narFile(path));
  }

  async addDerivation(drvPath: string, aterm: Uint8Array | string): Promise<AddResult> {
    const upload = parseDerivationUpload(drvPath, aterm, this.limits);
    if (this.valid(drvPath) && this.dbs.derivations.doesExist(drvPath)) {
      // Same path ⇒ same bytes were verified before; still refuse bytes that do not belong here.
      if (!Buffer.from(this.dbs.derivations.get(drvPath) as Uint8Array).equals(Buffer.from(upload.bytes))) {
        throw new FarmError('INVALID_ARGUMENT', `${drvPath}: the store already holds different contents for this derivation`);
      }
      return { added: false };
    }
    this.assertReferencesValid(drvPath, upload.references);
    // Stored derivations are verified and immutable, so their hashes modulo are memoised across
    // uploads: without it every upload re-hashed its whole input closure (quadratic on deep DAGs).
    if (this.drvHashMemo.size > MAX_DRV_HASH_MEMO) this.drvHashMemo.clear();
    await verifyDerivationUpload(drvPath, upload, (p) => this.readInputDerivation(p), this.drvHashMemo);
    const scratch = join(this.layout.tmpDir, `${randomUUID()}.drv`);
    try {
      const { nar, info } = await derivationNar(drvPath, upload, scratch);
      return await this.addPathWith(info, new StreamSource(nar, 'NAR_TRUNCATED'), () => {
        this.dbs.derivations.put(drvPath, Buffer.from(upload.bytes));
      });
    } finally {
      await rm(scratch, { force: true });
    }
  }

  async getDerivationAterm(drvPath: string): Promise<Uint8Array | undefined> {
    const stored = this.dbs.derivations.get(drvPath) as Uint8Array | undefined;
    if (stored !== undefined) return new Uint8Array(stored);
    if (!drvPath.endsWith('.drv') || !this.valid(drvPath)) return undefined;
    // A .drv uploaded with addPath (as `nix copy` does): its NAR is a single file, the ATerm.
    const chunks: Uint8Array[] = [];
    await parseNarBytes(await readFile(await this.narFile(drvPath)), { contents: (c) => void chunks.push(Buffer.from(c)) });
    return Buffer.concat(chunks);
  }

  async getDerivation(drvPath: string): Promise<Derivation | undefined> {
    const bytes = await this.getDerivationAterm(drvPath);
    return bytes === undefined ? undefined : parseDerivation(bytes);
  }

  private async readInputDerivation(drvPath: string): Promise<Derivation> {
    const drv = await this.getDerivation(drvPath);
    if (drv === undefined) throw new FarmError('FAILED_PRECONDITION', `input derivation ${drvPath} is not in the farm store (upload it first)`, { path: drvPath });
    return drv;
  }

  /** Every key of every database, sorted (for admin tools and tests comparing whole states). */
  inventory(): { pathInfos: string[]; hashParts: string[]; derivations: string[] } {
    const keys = (db: { getKeys(): Iterable<unknown> }) => sortedBytewise([...db.getKeys()].map(String));
    return { pathInfos: keys(this.dbs.pathInfos), hashParts: keys(this.dbs.hashParts), derivations: keys(this.dbs.derivations) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.env.close();
  }
}
