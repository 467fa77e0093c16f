/**
 * A cursor over the bytes of a `.drv` file with the few token readers the ATerm grammar needs
 * (literal punctuation and quoted strings). Every failure is a NixFormatError('BAD_DERIVATION')
 * carrying the byte offset and what was expected there.
 *
 * Invariants: `pos` only moves forward; each byte is examined a bounded number of times (a
 * quoted string is scanned twice: once to find its end, once to unescape), so reading is O(n).
 * There is no recursion: the derivation grammar has a fixed depth.
 */
import { NixFormatError } from '../errors.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
const CR = 0x0d;
const TAB = 0x09;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Quotes a value for an error message, cut short so a 10 MB hostile string stays out of logs. */
export function quoteForMessage(s: string, max = 80): string {
  return JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);
}

/** Which quoted fields use escapes (builder, args, env) and which are written raw (spec §5.1). */
export type StringStyle = 'escaped' | 'raw';

export class AtermReader {
  pos = 0;

  constructor(readonly bytes: Uint8Array) {}

  get atEnd(): boolean {
    return this.pos >= this.bytes.length;
  }

  fail(message: string, offset: number = this.pos, field?: string): NixFormatError {
    return new NixFormatError('BAD_DERIVATION', message, field === undefined ? { offset } : { offset, field });
  }

  /** A short description of what is at `offset`, for "expected X but found Y" messages. */
  describe(offset: number = this.pos): string {
    if (offset >= this.bytes.length) return 'end of input';
    const b = this.bytes[offset]!;
    return b >= 0x21 && b < 0x7f ? `'${String.fromCharCode(b)}'` : `byte 0x${b.toString(16).padStart(2, '0')}`;
  }

  peekIs(byte: number): boolean {
    return this.bytes[this.pos] === byte;
  }

  /** Consumes `text` (ASCII) or fails naming it. */
  expect(text: string, context: string): void {
    for (let i = 0; i < text.length; i++) {
      if (this.bytes[this.pos + i] !== text.charCodeAt(i)) {
        throw this.fail(`${context}: expected '${text}' but found ${this.describe(this.pos + i)}`, this.pos + i);
      }
    }
    this.pos += text.length;
  }

  /** Consumes `,` and returns false, or `close` and returns true; anything else fails. */
  separatorOrClose(close: string, context: string): boolean {
    if (this.peekIs(0x2c)) {
      this.pos++;
      return false;
    }
    if (this.peekIs(close.charCodeAt(0))) {
      this.pos++;
      return true;
    }
    throw this.fail(`${context}: expected ',' or '${close}' but found ${this.describe()}`);
  }

  /** Consumes `[`; returns true (and consumes `]`) if the list is empty. */
  openList(context: string): boolean {
    this.expect('[', context);
    if (this.peekIs(0x5d)) {
      this.pos++;
      return true;
    }
    return false;
  }

  /**
   * Reads a quoted string. Escaped style accepts exactly the escapes Nix writes (\" \\ \n \r \t)
   * and refuses raw newline/CR/tab, so every accepted string re-serialises to the same bytes.
   * Raw style refuses backslashes (Nix would read them as escapes but never writes them).
   */
  readString(style: StringStyle, field: string): string {
    const start = this.pos;
    this.expect('"', field);
    const bytes = this.bytes;
    const contentStart = this.pos;
    let escapes = 0;
    let i = contentStart;
    for (;;) {
      if (i >= bytes.length) throw this.fail(`${field}: unterminated string (started at byte ${start})`, i, field);
      const b = bytes[i]!;
      if (b === QUOTE) break;
      if (b === BACKSLASH) {
        if (style === 'raw') throw this.fail(`${field}: backslash in a field Nix writes without escapes`, i, field);
        const next = bytes[i + 1];
        if (next === undefined) throw this.fail(`${field}: unterminated escape sequence`, i + 1, field);
        if (next !== QUOTE && next !== BACKSLASH && next !== 0x6e && next !== 0x72 && next !== 0x74) {
          throw this.fail(`${field}: invalid escape '\\${String.fromCharCode(next)}' (only \\" \\\\ \\n \\r \\t are written by Nix)`, i, field);
        }
        escapes++;
        i += 2;
        continue;
      }
      if (style === 'escaped' && (b === NEWLINE || b === CR || b === TAB)) {
        throw this.fail(`${field}: raw control character 0x${b.toString(16).padStart(2, '0')} in an escaped string`, i, field);
      }
      i++;
    }
    const contentEnd = i;
    this.pos = contentEnd + 1;
    const raw = escapes === 0 ? bytes.subarray(contentStart, contentEnd) : unescape(bytes, contentStart, contentEnd, escapes);
    try {
      return utf8.decode(raw);
    } catch (e) {
      throw new NixFormatError('BAD_DERIVATION', `${field}: string is not valid UTF-8`, { offset: contentStart, field, cause: e });
    }
  }
}

/** Second pass over a string already checked by readString: resolves its escapes. */
function unescape(bytes: Uint8Array, from: number, to: number, escapes: number): Uint8Array {
  const out = new Uint8Array(to - from - escapes);
  let o = 0;
  for (let i = from; i < to; i++) {
    let b = bytes[i]!;
    if (b === BACKSLASH) {
      i++;
      b = bytes[i]!;
      if (b === 0x6e) b = NEWLINE;
      else if (b === 0x72) b = CR;
      else if (b === 0x74) b = TAB;
    }
    out[o++] = b;
  }
  return out;
}
