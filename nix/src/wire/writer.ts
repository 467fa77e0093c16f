/**
 * WireWriter: builds a Nix wire message (spec §1) as a list of Uint8Array chunks.
 *
 * Invariants: every item starts on an 8-byte boundary (strings are zero padded); integers are
 * little-endian u64 and are range-checked (0 ≤ v < 2^64) so a bad value is a typed error, not a
 * silently wrapped number; sets are written sorted by UTF-8 bytes as Nix's std::set does.
 * Cost: O(total bytes); large payloads (`raw`, `framed`) are kept as views, not copied.
 */
import { NixFormatError } from '../errors.js';
import { sortedBytewise } from '../store-path/index.js';

/** Nix's FramedSink flushes at its 32 KiB buffer size; we never emit bigger frames. */
export const FRAME_SIZE = 32 * 1024;

const U64_LIMIT = 1n << 64n;
const encoder = new TextEncoder();

export function wirePadLength(len: number): number {
  return (8 - (len % 8)) % 8;
}

export class WireWriter {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  /** Total bytes written so far. */
  get length(): number {
    return this.size;
  }

  raw(bytes: Uint8Array): this {
    if (bytes.length > 0) {
      this.parts.push(bytes);
      this.size += bytes.length;
    }
    return this;
  }

  u64(value: number | bigint, field = 'u64'): this {
    let v: bigint;
    if (typeof value === 'bigint') v = value;
    else if (Number.isSafeInteger(value)) v = BigInt(value);
    else throw new NixFormatError('BAD_WIRE', `${field}: ${value} is not a safe integer`, { field });
    if (v < 0n || v >= U64_LIMIT) throw new NixFormatError('BAD_WIRE', `${field}: ${v} does not fit in a u64`, { field });
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, v, true);
    return this.raw(out);
  }

  bool(value: boolean): this {
    return this.u64(value ? 1 : 0);
  }

  bytes(data: Uint8Array): this {
    this.u64(data.length);
    this.raw(data);
    const pad = wirePadLength(data.length);
    return pad > 0 ? this.raw(new Uint8Array(pad)) : this;
  }

  string(s: string): this {
    return this.bytes(encoder.encode(s));
  }

  /** A string list, written in the given order. */
  strings(list: Iterable<string>): this {
    const items = [...list];
    this.u64(items.length);
    for (const s of items) this.string(s);
    return this;
  }

  /** A string set / path set: written sorted by bytes, duplicates dropped, as std::set would. */
  stringSet(set: Iterable<string>): this {
    return this.strings(new Set(sortedBytewise(set)));
  }

  /** A map in the given entry order (callers that need Nix's order pass sorted entries). */
  map<K, V>(entries: Iterable<readonly [K, V]>, writeKey: (w: this, k: K) => void, writeValue: (w: this, v: V) => void): this {
    const list = [...entries];
    this.u64(list.length);
    for (const [k, v] of list) {
      writeKey(this, k);
      writeValue(this, v);
    }
    return this;
  }

  /** A string → string map sorted by key bytes (std::map order). */
  stringMap(entries: Iterable<readonly [string, string]>): this {
    const list = [...entries].sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])));
    return this.map(
      list,
      (w, k) => w.string(k),
      (w, v) => w.string(v),
    );
  }

  /**
   * A framed stream (worker protocol): chunks of at most `maxChunk` bytes, each `u64 len` + raw
   * bytes without padding, then a 0-length terminator.
   */
  framed(data: Uint8Array | Iterable<Uint8Array>, maxChunk = FRAME_SIZE): this {
    if (!Number.isSafeInteger(maxChunk) || maxChunk < 1) throw new NixFormatError('BAD_WIRE', `frame size ${maxChunk} must be a positive integer`, { field: 'maxChunk' });
    // Pieces are coalesced into frames of up to maxChunk bytes, like Nix's buffered FramedSink.
    const pieces = data instanceof Uint8Array ? [data] : data;
    let pending: Uint8Array[] = [];
    let pendingSize = 0;
    const flush = (): void => {
      if (pendingSize === 0) return;
      this.u64(pendingSize);
      for (const p of pending) this.raw(p);
      pending = [];
      pendingSize = 0;
    };
    for (const piece of pieces) {
      for (let at = 0; at < piece.length; ) {
        const take = Math.min(piece.length - at, maxChunk - pendingSize);
        pending.push(piece.subarray(at, at + take));
        pendingSize += take;
        at += take;
        if (pendingSize === maxChunk) flush();
      }
    }
    flush();
    return this.u64(0);
  }

  /** The chunks written so far (views; do not mutate). */
  chunks(): Uint8Array[] {
    return [...this.parts];
  }

  toBytes(): Uint8Array {
    return concatBytes(this.parts, this.size);
  }
}

export function concatBytes(parts: readonly Uint8Array[], total?: number): Uint8Array {
  const size = total ?? parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Runs `build` on a fresh writer and returns its chunks: the shape every encodeX returns. */
export function encodeWith(build: (w: WireWriter) => void): Uint8Array[] {
  const w = new WireWriter();
  build(w);
  return w.chunks();
}
