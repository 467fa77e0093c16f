/**
 * Token-level access to a NAR inside a ByteSource: reads exactly the NAR's bytes, hashes and
 * counts them (narHash/narSize on the fly), optionally tees them to a callback, and enforces
 * the limits before reading or allocating anything whose size came from the input.
 *
 * Offsets in errors are relative to the start of the NAR (the byte where `nix-archive-1`'s
 * length begins), so they are the same whether the NAR is a file or embedded in a stream.
 */
import { createHash } from 'node:crypto';
import { NixFormatError, isNixFormatError, type NixErrorCode } from '../errors.js';
import type { ByteSource } from '../io/byte-source.js';
import { Hash } from '../hash/hash.js';
import type { NarLimits } from './limits.js';
import { MAX_KEYWORD_LENGTH, padLength } from './wire.js';

const TWO_POW_32 = 0x1_0000_0000;

export class NarInput {
  private readonly hasher = createHash('sha256');
  private readonly start: number;

  constructor(
    private readonly source: ByteSource,
    readonly limits: NarLimits,
    private readonly onRaw?: (bytes: Uint8Array) => void,
  ) {
    this.start = source.offset;
  }

  /** Bytes of this NAR consumed so far (= narSize once the NAR is complete). */
  get offset(): number {
    return this.source.offset - this.start;
  }

  fail(code: NixErrorCode, message: string, offset: number = this.offset): NixFormatError {
    return new NixFormatError(code, message, { offset });
  }

  narHash(): Hash {
    return Hash.fromDigest('sha256', new Uint8Array(this.hasher.digest()));
  }

  /**
   * Reads a token's u64 length and checks it against `max` (throwing `tooLong`'s code) before
   * anything else is read. Returns the length as a safe integer.
   */
  async readLength(max: number, tooLong: NixErrorCode, what: string): Promise<number> {
    const at = this.offset;
    const b = await this.take(8);
    const lo = (b[0]! | (b[1]! << 8) | (b[2]! << 16)) + b[3]! * 0x100_0000;
    const hi = (b[4]! | (b[5]! << 8) | (b[6]! << 16)) + b[7]! * 0x100_0000;
    if (hi >= 0x20_0000 || hi * TWO_POW_32 + lo > max) {
      const value = (BigInt(hi) << 32n) | BigInt(lo);
      throw this.fail(tooLong, `${what} length ${value} exceeds the limit of ${max} bytes`, at);
    }
    return hi * TWO_POW_32 + lo;
  }

  /** One whole string token (payload ≤ `max` bytes), padding checked. */
  async readToken(max: number, tooLong: NixErrorCode, what: string): Promise<Uint8Array> {
    const len = await this.readLength(max, tooLong, what);
    this.checkTotal(len);
    const payloadAt = this.offset;
    const body = await this.take(len + padLength(len));
    this.checkPadding(body, len, payloadAt + len);
    return body.subarray(0, len);
  }

  /**
   * Reads a keyword token and requires it to be one of `expected` (returns its index). Every
   * non-empty token is at least 16 bytes, so the first read takes the length and up to 8 payload
   * bytes at once (an empty token here is invalid anyway).
   */
  async expectOneOf(expected: readonly Uint8Array[], what: string): Promise<number> {
    const at = this.offset;
    const first = await this.take(16);
    const head = Buffer.from(first.buffer, first.byteOffset, 16);
    const hi = head.readUInt32LE(4);
    const len = head.readUInt32LE(0);
    if (hi !== 0 || len > MAX_KEYWORD_LENGTH) {
      const value = (BigInt(hi) << 32n) | BigInt(len);
      throw this.fail('BAD_NAR', `expected ${describe(expected)} for ${what}, got a token of length ${value}`, at);
    }
    let token = head;
    if (len > 8) {
      const rest = await this.take(len + padLength(len) - 8);
      token = Buffer.concat([head, rest]);
    }
    this.checkPadding(token, 8 + len, at + 8 + len);
    const tok = token.subarray(8, 8 + len);
    for (let i = 0; i < expected.length; i++) if (tok.equals(expected[i]!)) return i;
    throw this.fail('BAD_NAR', `expected ${describe(expected)} for ${what}, got ${JSON.stringify(tok.toString('latin1'))}`, at);
  }

  /**
   * Reads a fixed run of keyword tokens (pre-encoded) in one read — the common case costs one
   * await instead of two per token. On a mismatch the first differing token is reported.
   */
  async expectSeq(seq: Buffer, what: string): Promise<void> {
    const at = this.offset;
    const b = await this.take(seq.length);
    const got = Buffer.from(b.buffer, b.byteOffset, b.length);
    if (got.equals(seq)) return;
    for (let pos = 0; pos < seq.length; ) {
      const len = seq.readUInt32LE(pos);
      const size = 8 + len + padLength(len);
      if (!got.subarray(pos, pos + size).equals(seq.subarray(pos, pos + size))) {
        let d = pos;
        while (got[d] === seq[d]) d++;
        if (d >= pos + 8 + len) throw this.fail('BAD_NAR', 'non-zero padding', at + d);
        throw this.fail('BAD_NAR', `expected '${seq.subarray(pos + 8, pos + 8 + len).toString()}' for ${what}`, at + pos);
      }
      pos += size;
    }
  }

  async expect(keyword: Uint8Array, what: string): Promise<void> {
    await this.expectOneOf([keyword], what);
  }

  /** Streams `len` payload bytes (already length-checked) followed by checked padding. */
  async *payloadChunks(len: number): AsyncGenerator<Uint8Array> {
    this.checkTotal(len);
    try {
      for await (const c of this.source.chunks(len)) {
        this.consumed(c);
        yield c;
      }
    } catch (e) {
      throw this.asTruncation(e);
    }
    const padAt = this.offset;
    const pad = await this.take(padLength(len));
    this.checkPadding(pad, 0, padAt);
  }

  /** Fails with NAR_TOO_LARGE if a payload of `len` (plus its padding) would pass maxNarSize. */
  private checkTotal(len: number): void {
    if (this.offset + len + padLength(len) > this.limits.maxNarSize) {
      throw this.fail('NAR_TOO_LARGE', `NAR would exceed the limit of ${this.limits.maxNarSize} bytes`);
    }
  }

  private checkPadding(bytes: Uint8Array, from: number, offsetOfFrom: number): void {
    for (let i = from; i < bytes.length; i++) {
      if (bytes[i] !== 0) throw this.fail('BAD_NAR', 'non-zero padding', offsetOfFrom + (i - from));
    }
  }

  private async take(n: number): Promise<Uint8Array> {
    if (n === 0) return new Uint8Array(0);
    let b: Uint8Array;
    try {
      b = await this.source.readExactly(n);
    } catch (e) {
      throw this.asTruncation(e);
    }
    this.consumed(b);
    return b;
  }

  private consumed(b: Uint8Array): void {
    this.hasher.update(b);
    this.onRaw?.(b);
  }

  /** The source's own end-of-input error (whatever code its owner chose) becomes NAR_TRUNCATED. */
  private asTruncation(e: unknown): unknown {
    if (isNixFormatError(e) && (e.code === 'NAR_TRUNCATED' || e.code === 'WIRE_TRUNCATED')) {
      const at = typeof e.offset === 'number' ? e.offset - this.start : this.offset;
      return new NixFormatError('NAR_TRUNCATED', 'NAR ends prematurely', { offset: at, cause: e });
    }
    return e;
  }
}

function describe(expected: readonly Uint8Array[]): string {
  return expected.map((e) => `'${Buffer.from(e).toString()}'`).join(' or ');
}
