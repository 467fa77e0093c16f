/**
 * Framed streams (worker protocol, spec §1): `u64 len` + `len` raw bytes (no padding), repeated,
 * ended by a 0-length frame. `FramedSource` exposes the frame contents as a ByteSource so the
 * ordinary decoders (path infos, NARs) can run inside a frame stream; `drain()` skips whatever
 * is left up to the terminator, which a server must do after rejecting an upload.
 *
 * Invariants: a frame longer than `maxFrame` is rejected before it is read; `offset` counts
 * content bytes (frame headers excluded); running out of frames before the requested bytes is
 * WIRE_TRUNCATED. Memory is bounded by the largest single read, never by the stream size.
 */
import { NixFormatError } from '../errors.js';
import type { ByteSource } from '../io/index.js';
import type { WireReader } from './reader.js';
import { concatBytes } from './writer.js';

/** Frames larger than this are refused (Nix writes ≤ 32 KiB; other writers may batch more). */
export const DEFAULT_MAX_FRAME = 64 * 1024 * 1024;

export class FramedSource implements ByteSource {
  private leftInFrame = 0;
  private finished = false;
  private consumed = 0;

  constructor(
    private readonly outer: WireReader,
    private readonly maxFrame = DEFAULT_MAX_FRAME,
  ) {}

  get offset(): number {
    return this.consumed;
  }

  /** True once the 0-length terminator has been read. */
  get complete(): boolean {
    return this.finished;
  }

  /** Moves to the next non-empty frame; false when the terminator is reached. */
  private async nextFrame(): Promise<boolean> {
    if (this.finished) return false;
    while (this.leftInFrame === 0) {
      const len = await this.outer.readLength('frame length', this.maxFrame);
      if (len === 0) {
        this.finished = true;
        return false;
      }
      this.leftInFrame = len;
    }
    return true;
  }

  async readExactly(n: number): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    for await (const chunk of this.chunks(n)) parts.push(chunk.slice());
    return parts.length === 1 ? parts[0]! : concatBytes(parts, n);
  }

  async *chunks(n: number, maxChunk?: number): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      if (this.leftInFrame === 0 && !(await this.nextFrame())) {
        throw new NixFormatError('WIRE_TRUNCATED', `framed stream ended with ${left} more bytes expected`, { offset: this.outer.offset });
      }
      const take = Math.min(left, this.leftInFrame);
      for await (const chunk of this.outer.readRawChunks(take, maxChunk)) {
        this.leftInFrame -= chunk.length;
        this.consumed += chunk.length;
        left -= chunk.length;
        yield chunk;
      }
    }
  }

  async atEnd(): Promise<boolean> {
    return this.leftInFrame === 0 && !(await this.nextFrame());
  }

  /** Skips the rest of the stream up to and including the terminator; returns bytes skipped. */
  async drain(): Promise<number> {
    let skipped = 0;
    while (await this.nextFrame()) {
      for await (const chunk of this.outer.readRawChunks(this.leftInFrame)) {
        this.leftInFrame -= chunk.length;
        skipped += chunk.length;
      }
    }
    return skipped;
  }

  /** Requires that the decoder consumed everything: the next thing must be the terminator. */
  async expectEnd(what: string): Promise<void> {
    if (!(await this.atEnd())) {
      throw new NixFormatError('BAD_WIRE', `${what}: unexpected extra data in framed stream`, { offset: this.outer.offset });
    }
  }
}

/** Reads a whole framed stream into memory (bounded by `max` bytes) and the frame sizes seen. */
export async function readFramedBytes(outer: WireReader, max: number, field = 'framed data'): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const len = await outer.readLength(`${field} frame length`, max - total);
    if (len === 0) break;
    parts.push((await outer.readRaw(len)).slice());
    total += len;
  }
  return concatBytes(parts, total);
}

/** Yields the contents of a framed stream chunk by chunk, ending after the terminator. */
export async function* readFrames(outer: WireReader, maxFrame = DEFAULT_MAX_FRAME): AsyncGenerator<Uint8Array> {
  for (;;) {
    const len = await outer.readLength('frame length', maxFrame);
    if (len === 0) return;
    yield* outer.readRawChunks(len);
  }
}
