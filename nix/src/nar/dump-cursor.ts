/**
 * The NAR writer's core: an iterative cursor over a filesystem tree that fills one output
 * buffer at a time with NAR bytes identical to `nix-store --dump` (spec §3).
 *
 * Invariants:
 * - Memory is bounded by the output buffer plus one directory listing per open directory level
 *   (never a whole file): file contents are read with readSync straight into the output buffer.
 * - Directory entries are sorted by raw bytes (names are read as Buffers, so non-UTF-8 names
 *   survive); a regular file is executable iff its owner-execute bit is set; symlink targets
 *   are copied raw; sockets, FIFOs and devices are refused with `UNSUPPORTED`.
 * - An explicit stack replaces recursion, so depth is bounded by the filesystem, not the JS stack.
 * - Every chunk handed out is hashed (sha256) and counted before it leaves, so narHash/narSize
 *   are exact for the bytes produced.
 * Complexity: O(total bytes + Σ d·log d over directories of d entries), a handful of syscalls
 * per file (open, fstat, read, close), small tokens batched into the one buffer.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, readdirSync, readlinkSync, type Dirent } from 'node:fs';
import { NixFormatError, isNixFormatError } from '../errors.js';
import { Hash } from '../hash/hash.js';
import { SEQ, encodeToken, padLength, tokenSize } from './wire.js';

export interface NarDumpResult {
  readonly narHash: Hash;
  readonly narSize: number;
}

export interface NarDumpOptions {
  /** Bytes per output chunk (default 1 MiB). */
  readonly chunkSize?: number;
  /**
   * When true (default false) every chunk is a view into one reused buffer, valid only until the
   * next call to `next()`. Fastest for hashing; streams must leave it false.
   */
  readonly reuseBuffer?: boolean;
  /**
   * Fragment mode (for parallel dumping): emit `entry ( name NAME node <node> )` for the tree at
   * `path` instead of a whole NAR (no magic).
   */
  readonly entryName?: Buffer;
  /** Hash the output (default true); fragment producers leave hashing to the assembler. */
  readonly hash?: boolean;
}

interface DirFrame {
  readonly kind: 'dir';
  readonly path: Buffer;
  readonly entries: Dirent<Buffer>[];
  next: number;
}

interface FileFrame {
  readonly kind: 'file';
  readonly path: Buffer;
  readonly fd: number;
  remaining: number;
  readonly padding: number;
}

type NodeKind = 'file' | 'dir' | 'symlink' | 'other';

const ZEROS = Buffer.alloc(8);
const SLASH = Buffer.from('/');
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const DEFAULT_CHUNK = 1024 * 1024;
const INITIAL_CHUNK = 64 * 1024;

export class NarDumpCursor {
  private out: Buffer;
  private pos = 0;
  /** Bytes that did not fit in `out`; emitted first by the next call. */
  private pending: Buffer | null = null;
  private readonly stack: (DirFrame | FileFrame)[] = [];
  private started = false;
  private finished = false;
  private readonly hasher = createHash('sha256');
  private size = 0;
  private currentPath: Buffer;
  private readonly rootPath: Buffer;
  private readonly chunkSize: number;
  private readonly reuseBuffer: boolean;
  private readonly entryName: Buffer | undefined;
  private readonly hashing: boolean;

  constructor(path: string | Buffer, options: NarDumpOptions = {}) {
    this.rootPath = typeof path === 'string' ? Buffer.from(path) : path;
    this.currentPath = this.rootPath;
    this.chunkSize = Math.max(4096, options.chunkSize ?? DEFAULT_CHUNK);
    this.reuseBuffer = options.reuseBuffer ?? false;
    this.entryName = options.entryName;
    this.hashing = options.hash ?? true;
    // Start small and grow to chunkSize while the NAR keeps filling the buffer: most store paths
    // are tiny, and a 1 MiB buffer per dump is garbage a busy agent then spends its time on.
    this.out = Buffer.allocUnsafe(Math.min(this.chunkSize, INITIAL_CHUNK));
  }

  /** The next chunk of NAR bytes, or null once the whole NAR has been produced. */
  next(): Uint8Array | null {
    try {
      if (this.pending !== null) this.drainPending();
      while (!this.finished && this.pending === null && this.pos < this.out.length) this.step();
    } catch (e) {
      this.abort();
      throw this.wrap(e);
    }
    if (this.pos === 0) return null;
    const chunk = this.out.subarray(0, this.pos);
    if (this.hashing) this.hasher.update(chunk);
    this.size += chunk.length;
    const more = !(this.finished && this.pending === null);
    const size = this.pos === this.out.length ? Math.min(this.chunkSize, this.out.length * 4) : this.out.length;
    // A fresh (or larger) buffer for the next chunk, never one after the last.
    if (more && (!this.reuseBuffer || size !== this.out.length)) this.out = Buffer.allocUnsafe(size);
    this.pos = 0;
    return chunk;
  }

  /** narHash and narSize; only valid once `next()` has returned null. */
  result(): NarDumpResult {
    if (!this.finished || this.pos !== 0 || this.pending !== null) throw new Error('NarDumpCursor.result() called before the end');
    return { narHash: Hash.fromDigest('sha256', new Uint8Array(this.hasher.digest())), narSize: this.size };
  }

  /** Closes any open file; safe to call more than once. */
  abort(): void {
    this.finished = true;
    for (const f of this.stack) if (f.kind === 'file') closeQuietly(f.fd);
    this.stack.length = 0;
  }

  /** One bounded unit of work: a token group, or one read of file contents. */
  private step(): void {
    if (!this.started) {
      this.started = true;
      if (this.entryName === undefined) this.put(SEQ.magic);
      else {
        this.put(SEQ.entryName);
        this.putToken(this.entryName);
        this.put(SEQ.node);
      }
      this.emitNode(this.rootPath, kindOfStat(lstatSync(this.rootPath)));
      return;
    }
    const top = this.stack[this.stack.length - 1];
    if (top === undefined) {
      if (this.entryName !== undefined) this.put(SEQ.close);
      this.finished = true;
      return;
    }
    if (top.kind === 'file') {
      if (top.remaining > 0) {
        const want = Math.min(top.remaining, this.out.length - this.pos);
        const n = readSync(top.fd, this.out, this.pos, want, null);
        if (n === 0) throw new NixFormatError('IO_ERROR', `file ${top.path.toString()} shrank while it was being dumped`, { field: top.path.toString() });
        this.pos += n;
        top.remaining -= n;
        return;
      }
      closeSync(top.fd);
      this.stack.pop();
      this.put(ZEROS.subarray(0, top.padding));
      this.put(SEQ.close);
      this.closeEntryIfNested();
      return;
    }
    const entry = top.entries[top.next];
    if (entry !== undefined) {
      top.next++;
      this.put(SEQ.entryName);
      this.putToken(entry.name);
      this.put(SEQ.node);
      this.emitNode(Buffer.concat([top.path, SLASH, entry.name]), kindOfDirent(entry));
      return;
    }
    this.stack.pop();
    this.put(SEQ.close);
    this.closeEntryIfNested();
  }

  private emitNode(path: Buffer, kind: NodeKind): void {
    this.currentPath = path;
    switch (kind) {
      case 'file': {
        const fd = openSync(path, OPEN_FLAGS);
        let size: number;
        let executable: boolean;
        try {
          const st = fstatSync(fd);
          if (!st.isFile()) throw unsupported(path, 'changed type while being dumped');
          size = st.size;
          executable = (st.mode & 0o100) !== 0;
        } catch (e) {
          closeQuietly(fd);
          throw e;
        }
        this.put(SEQ.nodeRegular);
        if (executable) this.put(SEQ.executable);
        this.put(SEQ.contents);
        this.putU64(size);
        this.stack.push({ kind: 'file', path, fd, remaining: size, padding: padLength(size) });
        return;
      }
      case 'symlink': {
        const target = readlinkSync(path, { encoding: 'buffer' });
        this.put(SEQ.nodeSymlinkTarget);
        this.putToken(target);
        this.put(SEQ.close);
        this.closeEntryIfNested();
        return;
      }
      case 'dir': {
        const entries = readdirSync(path, { encoding: 'buffer', withFileTypes: true });
        entries.sort((a, b) => Buffer.compare(a.name, b.name));
        this.put(SEQ.nodeDirectory);
        this.stack.push({ kind: 'dir', path, entries, next: 0 });
        return;
      }
      case 'other':
        throw unsupported(path, 'is not a regular file, directory or symlink (sockets, FIFOs and devices cannot be archived)');
    }
  }

  /** After a child node is complete, the `entry (` that introduced it needs its `)`. */
  private closeEntryIfNested(): void {
    if (this.stack.length > 0) this.put(SEQ.close);
  }

  private put(bytes: Uint8Array): void {
    const room = this.out.length - this.pos;
    if (this.pending === null && bytes.length <= room) {
      this.out.set(bytes, this.pos);
      this.pos += bytes.length;
      return;
    }
    // Rare: the buffer is full. Keep the overflow (a copy: `bytes` may be a shared constant).
    const fit = this.pending === null ? room : 0;
    if (fit > 0) {
      this.out.set(bytes.subarray(0, fit), this.pos);
      this.pos += fit;
    }
    const rest = Buffer.from(bytes.subarray(fit));
    this.pending = this.pending === null ? rest : Buffer.concat([this.pending, rest]);
  }

  private putU64(n: number): void {
    if (this.pending === null && this.out.length - this.pos >= 8) {
      this.out.writeUInt32LE(n % 0x1_0000_0000, this.pos);
      this.out.writeUInt32LE(Math.floor(n / 0x1_0000_0000), this.pos + 4);
      this.pos += 8;
      return;
    }
    const b = Buffer.alloc(8);
    b.writeUInt32LE(n % 0x1_0000_0000, 0);
    b.writeUInt32LE(Math.floor(n / 0x1_0000_0000), 4);
    this.put(b);
  }

  /** A string token written in place (no temporary buffer) when it fits. */
  private putToken(payload: Buffer): void {
    const len = payload.length;
    const total = tokenSize(len);
    if (this.pending !== null || this.out.length - this.pos < total) {
      this.put(encodeToken(payload));
      return;
    }
    const out = this.out;
    const at = this.pos;
    out.writeUInt32LE(len, at);
    out.writeUInt32LE(0, at + 4);
    payload.copy(out, at + 8);
    out.fill(0, at + 8 + len, at + total);
    this.pos = at + total;
  }

  private drainPending(): void {
    const p = this.pending;
    if (p === null) return;
    const fit = Math.min(p.length, this.out.length - this.pos);
    this.out.set(p.subarray(0, fit), this.pos);
    this.pos += fit;
    this.pending = fit === p.length ? null : p.subarray(fit);
  }

  private wrap(e: unknown): NixFormatError {
    if (isNixFormatError(e)) return e;
    const path = this.currentPath.toString();
    const code = (e as { code?: unknown } | null)?.code;
    const why = typeof code === 'string' ? code : e instanceof Error ? e.message : String(e);
    return new NixFormatError('IO_ERROR', `cannot dump ${path}: ${why}`, { field: path, cause: e });
  }
}

function kindOfStat(st: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): NodeKind {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  return 'other';
}

const kindOfDirent: (d: Dirent<Buffer>) => NodeKind = kindOfStat;

function unsupported(path: Buffer, why: string): NixFormatError {
  return new NixFormatError('UNSUPPORTED', `${path.toString()} ${why}`, { field: path.toString() });
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already failing; the original error is the one worth reporting.
  }
}
