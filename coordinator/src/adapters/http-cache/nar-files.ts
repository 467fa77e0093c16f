/**
 * The files behind `nar/…` URLs. A narinfo must state FileHash and FileSize, so a path's NAR is
 * compressed the first time its narinfo is asked for (streamed from the farm store through the
 * compressor and a hasher into tmp/, fsynced, renamed to `nar/<fileHash>.nar<ext>`), and its
 * {fileHash, fileSize} is kept in meta/ keyed by NAR hash — paths with the same NAR share one file.
 * Later requests, also after a restart, find the metadata and the file and serve them as they are.
 *
 * Concurrent first requests for one NAR share a single compression (in-process), and at most
 * one compression per CPU runs at once (compression-slots.ts); separate
 * processes on one work dir would each write a complete temp file and rename it, so a reader
 * never sees a partial file. Memory stays bounded by the stream buffers, whatever the NAR size.
 *
 * With compression `none` nothing is written but a small record of which store path has that
 * NAR, so that `nar/<narHash>.nar` can be served from the farm store after a restart too.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FarmError, type Logger } from '@farm/common';
import { Hash, type PathInfo } from '@farm/nix';
import type { FarmStore } from '../../ports/farm-store.js';
import type { CompressionMethod } from './compression.js';
import { tempName, writeAtomically, type WorkLayout } from './work-layout.js';
import { CompressionSlots } from './compression-slots.js';

export interface NarFile {
  /** Relative to the cache root: `nar/<fileHash nix32>.nar<ext>`. */
  readonly url: string;
  readonly fileHash: Hash;
  readonly fileSize: bigint;
}

export interface ServableNar {
  readonly size: number;
  open(): Promise<Readable>;
}

/** nix32 of a sha256, then `.nar` and an optional extension we write. */
const NAR_FILE = /^([0-9a-df-np-sv-z]{52})\.nar(|\.br|\.zst)$/;
const MEMORY_ENTRIES = 10_000;

export class NarFiles {
  /** narHash nix32 → its file (most recent last; bounded, it is only a shortcut past meta/). */
  private readonly known = new Map<string, NarFile>();
  private readonly pending = new Map<string, Promise<NarFile>>();
  private readonly stop = new AbortController();
  private readonly slots: CompressionSlots;

  constructor(
    private readonly store: FarmStore,
    private readonly method: CompressionMethod,
    private readonly layout: WorkLayout,
    private readonly logger: Logger,
    maxCompressions: number = availableParallelism(),
  ) {
    this.slots = new CompressionSlots(maxCompressions);
  }

  /** The file a narinfo for `info` names; compresses the NAR first if that was never done. */
  async fileOf(info: PathInfo): Promise<NarFile> {
    const key = info.narHash.nix32;
    if (this.method.name === 'none') return this.uncompressed(info);
    const remembered = this.known.get(key) ?? (await this.readMeta(key));
    if (remembered !== undefined && (await this.sizeOf(join(this.layout.narDir, this.fileName(remembered.fileHash)))) === Number(remembered.fileSize)) {
      this.remember(key, remembered);
      return remembered;
    }
    let running = this.pending.get(key);
    if (running === undefined) {
      running = this.slots.run(() => this.compress(info)).finally(() => this.pending.delete(key));
      this.pending.set(key, running);
    }
    return running;
  }

  /** The file at `nar/<name>`, if this cache has it (any compression it ever wrote). */
  async find(name: string): Promise<ServableNar | undefined> {
    const m = NAR_FILE.exec(name);
    if (m === null) return undefined;
    if (m[2] === '') return this.findUncompressed(m[1]!);
    const file = join(this.layout.narDir, name);
    const size = await this.sizeOf(file);
    if (size === undefined) return undefined;
    return { size, open: async () => createReadStream(file) };
  }

  /** Stops compressions in progress (their temp files are removed) and waits for them. */
  async close(): Promise<void> {
    this.stop.abort();
    await Promise.allSettled([...this.pending.values()]);
  }

  private fileName(fileHash: Hash): string {
    return `${fileHash.nix32}.nar${this.method.extension}`;
  }

  private async uncompressed(info: PathInfo): Promise<NarFile> {
    const key = info.narHash.nix32;
    const file = { url: `nar/${key}.nar`, fileHash: info.narHash, fileSize: info.narSize };
    if (this.known.get(key) === undefined) {
      await writeAtomically(this.layout, join(this.layout.metaDir, `${key}.none`), info.path);
      this.remember(key, file);
    }
    return file;
  }

  private async findUncompressed(narHash: string): Promise<ServableNar | undefined> {
    let path: string;
    try {
      path = (await readFile(join(this.layout.metaDir, `${narHash}.none`), 'utf8')).trim();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    const info = await this.store.getPathInfo(path);
    // The record is a hint: serve only a path that is valid now and still has exactly that NAR.
    if (info === undefined || info.narHash.nix32 !== narHash) return undefined;
    return { size: Number(info.narSize), open: () => this.store.narStream(path) };
  }

  private async compress(info: PathInfo): Promise<NarFile> {
    const compressor = this.method.compressor(Number(info.narSize));
    if (compressor === undefined) throw new FarmError('INTERNAL', `compression ${this.method.name} has no compressor`);
    const started = Date.now();
    const tmp = tempName(this.layout);
    const hasher = createHash('sha256');
    let size = 0;
    const measure = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hasher.update(chunk);
        size += chunk.length;
        cb(null, chunk);
      },
    });
    try {
      await pipeline(await this.store.narStream(info.path), compressor, measure, createWriteStream(tmp), { signal: this.stop.signal });
      const fh = await open(tmp, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      const file: NarFile = { url: '', fileHash: Hash.fromDigest('sha256', new Uint8Array(hasher.digest())), fileSize: BigInt(size) };
      const name = this.fileName(file.fileHash);
      await rename(tmp, join(this.layout.narDir, name));
      const done = { ...file, url: `nar/${name}` };
      await writeAtomically(
        this.layout,
        join(this.layout.metaDir, `${info.narHash.nix32}.${this.method.name}`),
        JSON.stringify({ fileHash: done.fileHash.toPrefixed('nix32'), fileSize: size }),
      );
      this.remember(info.narHash.nix32, done);
      this.logger.debug({ path: info.path, narSize: Number(info.narSize), fileSize: size, ms: Date.now() - started }, 'compressed a NAR for the binary cache');
      return done;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  private async readMeta(narHash: string): Promise<NarFile | undefined> {
    let text: string;
    try {
      text = await readFile(join(this.layout.metaDir, `${narHash}.${this.method.name}`), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    try {
      const j = JSON.parse(text) as { fileHash?: unknown; fileSize?: unknown };
      if (typeof j.fileHash !== 'string' || typeof j.fileSize !== 'number') return undefined;
      const fileHash = Hash.parsePrefixed(j.fileHash);
      return { url: `nar/${this.fileName(fileHash)}`, fileHash, fileSize: BigInt(j.fileSize) };
    } catch (e) {
      // A damaged record only costs a recompression, which rewrites it.
      this.logger.warn({ err: e, narHash }, 'ignoring an unreadable binary cache record');
      return undefined;
    }
  }

  private async sizeOf(file: string): Promise<number | undefined> {
    try {
      const st = await stat(file);
      return st.isFile() ? st.size : undefined;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  private remember(key: string, file: NarFile): void {
    this.known.delete(key);
    this.known.set(key, file);
    if (this.known.size > MEMORY_ENTRIES) this.known.delete(this.known.keys().next().value!);
  }
}
