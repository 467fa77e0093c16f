/**
 * WireReader: decodes Nix wire primitives (spec §1) from a ByteSource.
 *
 * Invariants: every failure is a NixFormatError (`WIRE_TRUNCATED` at end of input, `BAD_WIRE`
 * otherwise) naming the field and the byte offset; a declared length is checked against a limit
 * *before* any bytes are read or allocated, so a hostile `2^63` length costs nothing; padding must
 * be zero. Integers come back as bigint (`readU64`), as a 32-bit number (`readInt`, like Nix's
 * readInt) or as a safe JS number (`readNumber`, for sizes and times).
 * An optional tap sees every consumed byte, in order (used to hash/copy embedded NARs).
 */
import { NixFormatError } from '../errors.js';
import type { ByteSource } from '../io/index.js';
import { wirePadLength } from './writer.js';

export interface WireLimits {
  /** Longest string/bytes item accepted (default 64 MiB). */
  readonly maxStringLength: number;
  /** Most items accepted in one list/set/map (default 2^24). */
  readonly maxCount: number;
}

export const DEFAULT_WIRE_LIMITS: WireLimits = { maxStringLength: 64 * 1024 * 1024, maxCount: 1 << 24 };

const INT_LIMIT = 1n << 32n;
const decoder = new TextDecoder('utf-8', { fatal: true });

export type ByteTap = (bytes: Uint8Array) => void;

export class WireReader {
  readonly limits: WireLimits;
  private taps: ByteTap[] = [];

  constructor(
    readonly source: ByteSource,
    limits: Partial<WireLimits> = {},
  ) {
    this.limits = { ...DEFAULT_WIRE_LIMITS, ...limits };
  }

  get offset(): number {
    return this.source.offset;
  }

  /** Calls `tap` with every byte consumed until the returned function is called. */
  tap(tap: ByteTap): () => void {
    this.taps.push(tap);
    return () => {
      this.taps = this.taps.filter((t) => t !== tap);
    };
  }

  /** Hands bytes consumed directly from `source` (by a nested decoder, e.g. the NAR reader) to the taps. */
  emit(bytes: Uint8Array): void {
    for (const t of this.taps) t(bytes);
  }

  async readRaw(n: number): Promise<Uint8Array> {
    const bytes = await this.source.readExactly(n);
    this.emit(bytes);
    return bytes;
  }

  async *readRawChunks(n: number, maxChunk?: number): AsyncGenerator<Uint8Array> {
    for await (const chunk of this.source.chunks(n, maxChunk)) {
      this.emit(chunk);
      yield chunk;
    }
  }

  async atEnd(): Promise<boolean> {
    return this.source.atEnd();
  }

  async readU64(field = 'u64'): Promise<bigint> {
    void field;
    const bytes = await this.readRaw(8);
    return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  }

  /** Like Nix's readInt: values ≥ 2^32 are a protocol error. */
  async readInt(field = 'int'): Promise<number> {
    const at = this.offset;
    const v = await this.readU64(field);
    if (v >= INT_LIMIT) throw new NixFormatError('BAD_WIRE', `${field}: value ${v} does not fit in 32 bits`, { offset: at });
    return Number(v);
  }

  /** A u64 that must be a safe JS integer (sizes, times); larger values are a typed error. */
  async readNumber(field = 'number'): Promise<number> {
    const at = this.offset;
    const v = await this.readU64(field);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new NixFormatError('BAD_WIRE', `${field}: value ${v} exceeds 2^53`, { offset: at });
    return Number(v);
  }

  /** Any non-zero value is true, as in Nix. */
  async readBool(field = 'bool'): Promise<boolean> {
    return (await this.readU64(field)) !== 0n;
  }

  /** A count for a list/set/map: read like readInt, and capped by `maxCount`. */
  async readCount(field = 'count'): Promise<number> {
    const at = this.offset;
    const n = await this.readInt(field);
    if (n > this.limits.maxCount) throw new NixFormatError('BAD_WIRE', `${field}: ${n} items exceed the limit of ${this.limits.maxCount}`, { offset: at });
    return n;
  }

  /** Reads a string's length and checks it against `max` before anything is allocated. */
  async readLength(field: string, max: number): Promise<number> {
    const at = this.offset;
    const len = await this.readU64(field);
    if (len > BigInt(max)) throw new NixFormatError('BAD_WIRE', `${field}: length ${len} exceeds the limit of ${max}`, { offset: at });
    return Number(len);
  }

  async readPadding(len: number, field: string): Promise<void> {
    const pad = wirePadLength(len);
    if (pad === 0) return;
    const at = this.offset;
    const bytes = await this.readRaw(pad);
    if (bytes.some((b) => b !== 0)) throw new NixFormatError('BAD_WIRE', `${field}: non-zero padding`, { offset: at });
  }

  async readBytes(field = 'bytes', max = this.limits.maxStringLength): Promise<Uint8Array> {
    const len = await this.readLength(field, max);
    // Copy: the source may hand out views into a buffer it reuses.
    const data = (await this.readRaw(len)).slice();
    await this.readPadding(len, field);
    return data;
  }

  /** Streams a bytes item (e.g. NAR file contents) without holding it in memory. */
  async skipBytes(field: string, max: number, onChunk?: (chunk: Uint8Array) => void): Promise<number> {
    const len = await this.readLength(field, max);
    for await (const chunk of this.readRawChunks(len)) onChunk?.(chunk);
    await this.readPadding(len, field);
    return len;
  }

  async readString(field = 'string', max = this.limits.maxStringLength): Promise<string> {
    const at = this.offset;
    const bytes = await this.readBytes(field, max);
    try {
      return decoder.decode(bytes);
    } catch (cause) {
      throw new NixFormatError('BAD_WIRE', `${field}: string is not valid UTF-8`, { offset: at, cause });
    }
  }

  async readStrings(field = 'strings', max = this.limits.maxStringLength): Promise<string[]> {
    const n = await this.readCount(field);
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(await this.readString(`${field}[${i}]`, max));
    return out;
  }

  /** A string → string map as an entry list in wire order. */
  async readStringPairs(field = 'map'): Promise<Array<[string, string]>> {
    const n = await this.readCount(field);
    const out: Array<[string, string]> = [];
    for (let i = 0; i < n; i++) out.push([await this.readString(`${field} key`), await this.readString(`${field} value`)]);
    return out;
  }
}

/** Wraps any failure from `work` into a NixFormatError, so callers never see an untyped exception. */
export async function typed<T>(reader: WireReader, what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof NixFormatError) throw e;
    throw new NixFormatError('BAD_WIRE', `${what}: ${e instanceof Error ? e.message : String(e)}`, { offset: reader.offset, cause: e });
  }
}
