/**
 * A pull-based byte source shared by every decoder in this library (NAR, serve and worker
 * protocol). Decoders ask for exactly the bytes they need, so a NAR embedded in a protocol
 * stream without a length prefix is consumed exactly up to its end and not a byte further.
 *
 * Invariants: `offset` counts bytes handed out so far; a short read at EOF throws a typed
 * error naming the offset; large payloads are streamed with `chunks(n)` so memory stays
 * bounded by the chunk size, never by the payload size.
 */
import { NixFormatError, type NixErrorCode } from '../errors.js';

export interface ByteSource {
  /** Bytes consumed so far. */
  readonly offset: number;
  /** Exactly `n` bytes, or a `truncatedCode` error at end of input. */
  readExactly(n: number): Promise<Uint8Array>;
  /** Yields exactly `n` bytes in pieces of at most `maxChunk` bytes (streaming large payloads). */
  chunks(n: number, maxChunk?: number): AsyncGenerator<Uint8Array>;
  /** True when no more bytes will ever come. */
  atEnd(): Promise<boolean>;
}

const DEFAULT_MAX_CHUNK = 256 * 1024;

/**
 * A ByteSource over any async iterable of byte chunks (a Node Readable, a socket, a generator),
 * or over a single buffer.
 */
export class StreamSource implements ByteSource {
  private readonly iterator: AsyncIterator<Uint8Array> | Iterator<Uint8Array>;
  private buffer: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private consumed = 0;
  private ended = false;

  constructor(
    input: AsyncIterable<Uint8Array> | Iterable<Uint8Array> | Uint8Array,
    private readonly truncatedCode: NixErrorCode = 'WIRE_TRUNCATED',
  ) {
    if (input instanceof Uint8Array) this.iterator = [input][Symbol.iterator]();
    else if (Symbol.asyncIterator in input) this.iterator = input[Symbol.asyncIterator]();
    else this.iterator = input[Symbol.iterator]();
  }

  get offset(): number {
    return this.consumed;
  }

  private get available(): number {
    return this.buffer.length - this.pos;
  }

  /** Pulls the next non-empty chunk into the buffer; false at end of input. */
  private async fill(): Promise<boolean> {
    while (!this.ended) {
      const next = await this.iterator.next();
      if (next.done === true) {
        this.ended = true;
        return false;
      }
      const chunk = next.value instanceof Uint8Array ? next.value : new Uint8Array(next.value as ArrayBuffer);
      if (chunk.length === 0) continue;
      this.buffer = this.available === 0 ? chunk : concat(this.buffer.subarray(this.pos), chunk);
      this.pos = 0;
      return true;
    }
    return false;
  }

  async readExactly(n: number): Promise<Uint8Array> {
    while (this.available < n) {
      if (!(await this.fill())) {
        throw new NixFormatError(this.truncatedCode, `unexpected end of input: needed ${n} bytes, have ${this.available}`, {
          offset: this.consumed + this.available,
        });
      }
    }
    const out = this.buffer.subarray(this.pos, this.pos + n);
    this.pos += n;
    this.consumed += n;
    return out;
  }

  async *chunks(n: number, maxChunk: number = DEFAULT_MAX_CHUNK): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      if (this.available === 0 && !(await this.fill())) {
        throw new NixFormatError(this.truncatedCode, `unexpected end of input: ${left} more bytes expected`, { offset: this.consumed });
      }
      const take = Math.min(left, this.available, maxChunk);
      const out = this.buffer.subarray(this.pos, this.pos + take);
      this.pos += take;
      this.consumed += take;
      left -= take;
      yield out;
    }
  }

  async atEnd(): Promise<boolean> {
    return this.available === 0 && !(await this.fill());
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
