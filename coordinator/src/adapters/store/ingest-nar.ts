/**
 * Reads one uploaded NAR into a sink — a temp file or memory — while the nix library's NAR
 * reader parses and hashes it, so that only a well-formed NAR whose every byte was seen can ever
 * be stored (renamed into nar/, or written inline into LMDB).
 *
 * Invariants: memory stays bounded (a file sink buffers raw bytes up to FLUSH_BYTES and writes
 * them before the reader is allowed to continue — every visitor callback awaits the flush; a
 * memory sink is only used for NARs declared small); a file sink's temp file is fsynced before
 * this returns, so a later link + LMDB commit never points at unwritten data; the reader stops at
 * maxNarSize before reading further. The caller owns (and removes) a temp file.
 */
import { createHash, type Hash as NodeHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { FarmError } from '@farm/common';
import { Hash, readNar, skipNar, StreamSource, type ByteSource, type NarVisitor } from '@farm/nix';
import type { NarSource } from '../../ports/farm-store.js';
import type { ExpectedContent } from './path-checks.js';

const FLUSH_BYTES = 1024 * 1024;

export interface IngestedNar {
  readonly narHash: Hash;
  readonly narSize: number;
  /** The content-address hash computed from the NAR, when `expectedContent` was given. */
  readonly contentHash: Hash | undefined;
}

/** Where the raw NAR bytes go while they are parsed. */
export interface NarSink {
  /** Keeps `bytes` (a view the reader may reuse: the sink copies). */
  push(bytes: Uint8Array): void;
  /** Writes out buffered bytes when enough have piled up; the reader waits for the promise. */
  maybeFlush(): Promise<void> | undefined;
  /** Called once the NAR is complete: every pushed byte is then durable (file) or held (memory). */
  finish(): Promise<void>;
}

function isByteSource(nar: NarSource): nar is ByteSource {
  return typeof (nar as ByteSource).readExactly === 'function';
}

/** A ByteSource over the upload; a stream must end right after the NAR, a ByteSource need not. */
function toSource(nar: NarSource): { source: ByteSource; requireEnd: boolean } {
  return isByteSource(nar) ? { source: nar, requireEnd: false } : { source: new StreamSource(nar, 'NAR_TRUNCATED'), requireEnd: true };
}

export async function ingestNar(nar: NarSource, sink: NarSink, maxNarSize: number, expected: ExpectedContent | undefined): Promise<IngestedNar> {
  const { source, requireEnd } = toSource(nar);
  const content = expected === undefined ? undefined : new ContentHasher(expected);
  const visitor: NarVisitor = {
    directory: (depth) => {
      content?.notSingleFile(depth, 'directory');
      return sink.maybeFlush();
    },
    symlink: (depth) => {
      content?.notSingleFile(depth, 'symlink');
      return sink.maybeFlush();
    },
    file: () => sink.maybeFlush(),
    contents: (chunk) => {
      content?.file(chunk);
      return sink.maybeFlush();
    },
    fileEnd: () => sink.maybeFlush(),
    directoryEnd: () => sink.maybeFlush(),
  };
  const result = await readNar(source, visitor, {
    limits: { maxNarSize },
    requireEnd,
    onRaw: (bytes) => {
      sink.push(bytes);
      content?.raw(bytes);
    },
  });
  await sink.finish();
  return { narHash: result.narHash, narSize: result.narSize, contentHash: content?.digest(result.narHash) };
}

/** ingestNar into a new temp file (created exclusively, read-only, fsynced, closed on return). */
export async function ingestNarToFile(nar: NarSource, tmpFile: string, maxNarSize: number, expected: ExpectedContent | undefined): Promise<IngestedNar> {
  const fh = await open(tmpFile, 'wx', 0o444);
  try {
    return await ingestNar(nar, new FileSink(fh), maxNarSize, expected);
  } finally {
    await fh.close();
  }
}

/** Consumes one NAR without storing it (an already-valid path still drains its upload). */
export async function drainNar(nar: NarSource): Promise<void> {
  if (isByteSource(nar)) {
    await skipNar(nar);
    return;
  }
  for await (const _ of nar) {
    // discard
  }
}

class FileSink implements NarSink {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  constructor(private readonly fh: FileHandle) {}

  push(bytes: Uint8Array): void {
    // The reader may hand out views of buffers it reuses; copy before keeping them.
    this.pending.push(Buffer.from(bytes));
    this.pendingBytes += bytes.length;
  }

  maybeFlush(): Promise<void> | undefined {
    return this.pendingBytes >= FLUSH_BYTES ? this.flush() : undefined;
  }

  async finish(): Promise<void> {
    await this.flush();
    await this.fh.sync();
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const data = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    await this.fh.write(data);
  }
}

/**
 * Holds the NAR in one buffer sized for the declared narSize, so a NAR of the declared size is
 * copied exactly once. The reader checks maxNarSize (= the declared size) before every contents
 * or name it reads, but not before the last few keyword tokens, so a NAR slightly longer than
 * declared can arrive; the buffer then grows and the size check refuses the upload.
 */
export class MemorySink implements NarSink {
  private buf: Buffer;
  private size = 0;
  constructor(expectedSize: number) {
    this.buf = Buffer.allocUnsafe(expectedSize);
  }

  push(bytes: Uint8Array): void {
    if (this.size + bytes.length > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.size + bytes.length));
      this.buf.copy(grown, 0, 0, this.size);
      this.buf = grown;
    }
    this.buf.set(bytes, this.size);
    this.size += bytes.length;
  }

  maybeFlush(): undefined {
    return undefined;
  }

  async finish(): Promise<void> {}

  /** The NAR received (a view of the sink's buffer, exactly the bytes pushed). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.size);
  }
}

/** Hashes what a content address covers: the root file's contents, or the NAR in the ca's algorithm. */
class ContentHasher {
  private readonly hasher: NodeHash | undefined;
  constructor(private readonly expected: ExpectedContent) {
    // A recursive sha256 address is the NAR hash itself; any other algorithm hashes the NAR again.
    this.hasher = expected.of === 'nar' && expected.hash.algo === 'sha256' ? undefined : createHash(expected.hash.algo);
  }
  notSingleFile(depth: number, kind: string): void {
    if (this.expected.of === 'file' && depth === 0) {
      throw new FarmError('INVALID_ARGUMENT', `the content address is of a single file, but the NAR's root is a ${kind}`);
    }
  }
  file(chunk: Uint8Array): void {
    if (this.expected.of === 'file') this.hasher!.update(chunk);
  }
  raw(bytes: Uint8Array): void {
    if (this.expected.of === 'nar') this.hasher?.update(bytes);
  }
  digest(narHash: Hash): Hash {
    if (this.hasher === undefined) return narHash;
    return Hash.fromDigest(this.expected.hash.algo, new Uint8Array(this.hasher.digest()));
  }
}
