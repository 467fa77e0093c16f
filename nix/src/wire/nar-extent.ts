/**
 * Finds the end of a NAR embedded in a protocol stream (spec §3: NARs in DumpStorePath,
 * NarFromPath, export streams and AddMultipleToStore carry no length, so the only way to know
 * where one ends is to walk its tokens). This is a minimal token walker, NOT the full NAR reader:
 * it checks the grammar and entry-name order just enough to find the end safely.
 * TODO(nar): switch to the shared NAR reader in nix/src/nar/ once it lands.
 *
 * Invariants: consumes exactly one NAR and not a byte more; every consumed byte goes to
 * `onChunk` and into the sha256; file contents are streamed (memory is O(depth + token size));
 * nesting deeper than `maxDepth` and tokens longer than `maxToken` are rejected (BAD_NAR).
 * Cost: O(NAR size).
 */
import { createHash } from 'node:crypto';
import { NixFormatError } from '../errors.js';
import { Hash } from '../hash/index.js';
import type { WireReader } from './reader.js';
import { concatBytes } from './writer.js';

export interface NarExtentOptions {
  readonly maxDepth?: number;
  /** Longest non-contents token (names, symlink targets). */
  readonly maxToken?: number;
  /** Largest single regular file. */
  readonly maxFileSize?: number;
}

export interface NarExtent {
  readonly narSize: number;
  readonly narHash: Hash;
}

const NAR_MAGIC = 'nix-archive-1';

/** Consumes one NAR from `reader`, passing its bytes to `onChunk`; returns its size and sha256. */
export async function copyNarExtent(reader: WireReader, onChunk: (chunk: Uint8Array) => void, options: NarExtentOptions = {}): Promise<NarExtent> {
  const walker = new NarWalker(reader, options);
  const hash = createHash('sha256');
  let size = 0;
  const untap = reader.tap((bytes) => {
    hash.update(bytes);
    size += bytes.length;
    onChunk(bytes);
  });
  try {
    await walker.walk();
  } finally {
    untap();
  }
  return { narSize: size, narHash: Hash.fromDigest('sha256', new Uint8Array(hash.digest())) };
}

/** Consumes one NAR and returns its bytes (for messages small enough to hold in memory). */
export async function readNarBytes(reader: WireReader, options: NarExtentOptions = {}): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const { narSize } = await copyNarExtent(reader, (c) => parts.push(c.slice()), options);
  return concatBytes(parts, narSize);
}

class NarWalker {
  private readonly maxDepth: number;
  private readonly maxToken: number;
  private readonly maxFileSize: number;

  constructor(
    private readonly reader: WireReader,
    options: NarExtentOptions,
  ) {
    this.maxDepth = options.maxDepth ?? 256;
    this.maxToken = options.maxToken ?? 4096;
    this.maxFileSize = options.maxFileSize ?? Number.MAX_SAFE_INTEGER;
  }

  async walk(): Promise<void> {
    await this.expect(NAR_MAGIC);
    await this.node(0);
  }

  private bad(message: string, offset: number): NixFormatError {
    return new NixFormatError('BAD_NAR', message, { offset });
  }

  private token(field = 'NAR token'): Promise<string> {
    return this.reader.readString(field, this.maxToken);
  }

  private async expect(word: string): Promise<void> {
    const at = this.reader.offset;
    const got = await this.token();
    if (got !== word) throw this.bad(`expected NAR token ${JSON.stringify(word)}, got ${JSON.stringify(got.slice(0, 40))}`, at);
  }

  private async node(depth: number): Promise<void> {
    if (depth > this.maxDepth) throw this.bad(`NAR nesting deeper than ${this.maxDepth}`, this.reader.offset);
    await this.expect('(');
    await this.expect('type');
    const at = this.reader.offset;
    const type = await this.token();
    if (type === 'regular') await this.regular();
    else if (type === 'symlink') {
      await this.expect('target');
      await this.token('symlink target');
      await this.expect(')');
    } else if (type === 'directory') await this.directory(depth);
    else throw this.bad(`unknown NAR node type ${JSON.stringify(type.slice(0, 40))}`, at);
  }

  private async regular(): Promise<void> {
    let at = this.reader.offset;
    let tag = await this.token();
    if (tag === 'executable') {
      await this.expect('');
      at = this.reader.offset;
      tag = await this.token();
    }
    if (tag !== 'contents') throw this.bad(`expected "contents", got ${JSON.stringify(tag.slice(0, 40))}`, at);
    await this.reader.skipBytes('NAR file contents', this.maxFileSize);
    await this.expect(')');
  }

  private async directory(depth: number): Promise<void> {
    let previous: Buffer | undefined;
    for (;;) {
      const at = this.reader.offset;
      const tag = await this.token();
      if (tag === ')') return;
      if (tag !== 'entry') throw this.bad(`expected "entry" or ")", got ${JSON.stringify(tag.slice(0, 40))}`, at);
      await this.expect('(');
      await this.expect('name');
      const nameAt = this.reader.offset;
      const name = await this.token('NAR entry name');
      if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
        throw this.bad(`invalid NAR entry name ${JSON.stringify(name.slice(0, 40))}`, nameAt);
      }
      const bytes = Buffer.from(name);
      if (previous !== undefined && Buffer.compare(previous, bytes) >= 0) {
        throw this.bad(`NAR entry ${JSON.stringify(name.slice(0, 40))} is not in strictly increasing order`, nameAt);
      }
      previous = bytes;
      await this.expect('node');
      await this.node(depth + 1);
      await this.expect(')');
    }
  }
}
