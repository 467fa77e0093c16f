/**
 * The NAR writer's public faces over NarDumpCursor: a synchronous callback API (fastest), a
 * pull iterator, a Node Readable for piping to sockets and files, and `hashPath`.
 * All of them produce bytes identical to `nix-store --dump PATH` and report narHash/narSize.
 */
import { Readable } from 'node:stream';
import { NarDumpCursor, type NarDumpOptions, type NarDumpResult } from './dump-cursor.js';
import { dumpNarParallel } from './parallel-dump.js';

export type { NarDumpOptions, NarDumpResult } from './dump-cursor.js';

/**
 * Dumps `path` as a NAR, calling `onChunk` for each piece in order. By default chunks are views
 * of one reused buffer (valid only during the call); pass `{ reuseBuffer: false }` to keep them.
 * A directory with many entries is dumped by two threads (see parallel-dump.ts) unless
 * `parallel: false`, or a chunk size or fresh buffers are requested.
 * Throws NixFormatError (`IO_ERROR`, `UNSUPPORTED`) on unreadable or unarchivable input.
 */
export function dumpNarSync(
  path: string | Buffer,
  onChunk: (chunk: Uint8Array) => void,
  options: NarDumpOptions & { readonly parallel?: boolean } = {},
): NarDumpResult {
  if (options.parallel !== false && options.chunkSize === undefined && options.reuseBuffer !== false) {
    const r = dumpNarParallel(path, onChunk);
    if (r !== null) return r;
  }
  const cursor = new NarDumpCursor(path, { reuseBuffer: true, ...options });
  for (let c = cursor.next(); c !== null; c = cursor.next()) {
    try {
      onChunk(c);
    } catch (e) {
      cursor.abort();
      throw e;
    }
  }
  return cursor.result();
}

/** narHash (sha256 of the NAR) and narSize of `path`, like `nix-hash --type sha256 PATH`. */
export function hashPath(path: string | Buffer): NarDumpResult {
  return dumpNarSync(path, () => {});
}

/** The whole NAR of `path` in memory. For tests and small trees only. */
export function dumpNarToBuffer(path: string | Buffer): { nar: Buffer } & NarDumpResult {
  const parts: Uint8Array[] = [];
  const r = dumpNarSync(path, (c) => parts.push(Buffer.from(c)));
  return { nar: Buffer.concat(parts), ...r };
}

/**
 * A pull iterator of fresh (never reused) NAR chunks. Works with `for … of`, `for await … of`,
 * `Readable.from` and `stream.pipeline`. The iterator's return value is the NarDumpResult.
 */
export function* narChunks(path: string | Buffer, options: Omit<NarDumpOptions, 'reuseBuffer'> = {}): Generator<Uint8Array, NarDumpResult> {
  const cursor = new NarDumpCursor(path, { chunkSize: 256 * 1024, ...options, reuseBuffer: false });
  try {
    for (let c = cursor.next(); c !== null; c = cursor.next()) yield c;
  } finally {
    cursor.abort();
  }
  return cursor.result();
}

/**
 * A Readable of the NAR of `path` with backpressure (one chunk is produced per read request).
 * `result` is set when the stream has ended; errors destroy the stream with a NixFormatError.
 */
export class NarReadable extends Readable {
  private readonly cursor: NarDumpCursor;
  private done: NarDumpResult | undefined;

  constructor(path: string | Buffer, options: Omit<NarDumpOptions, 'reuseBuffer'> = {}) {
    super();
    this.cursor = new NarDumpCursor(path, { chunkSize: 256 * 1024, ...options, reuseBuffer: false });
  }

  get result(): NarDumpResult | undefined {
    return this.done;
  }

  override _read(): void {
    let chunk: Uint8Array | null;
    try {
      chunk = this.cursor.next();
    } catch (e) {
      this.destroy(e as Error);
      return;
    }
    if (chunk === null) this.done = this.cursor.result();
    this.push(chunk);
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.cursor.abort();
    cb(err);
  }
}
