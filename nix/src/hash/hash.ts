/**
 * A typed digest and Nix's textual forms of it: base16, nix32, base64, SRI and the
 * `<type>:<digest>` prefixed forms, parsed the way Nix's Hash::parseAny does (encoding chosen
 * by length after an optional prefix).
 */
import { createHash } from 'node:crypto';
import { NixFormatError } from '../errors.js';
import { decodeNix32, encodeNix32, nix32Length } from './nix32.js';

export type HashAlgo = 'md5' | 'sha1' | 'sha256' | 'sha512';
export type HashEncoding = 'base16' | 'nix32' | 'base64' | 'sri';

export const HASH_SIZES: Readonly<Record<HashAlgo, number>> = { md5: 16, sha1: 20, sha256: 32, sha512: 64 };

export function isHashAlgo(s: string): s is HashAlgo {
  return s === 'md5' || s === 'sha1' || s === 'sha256' || s === 'sha512';
}

export function parseHashAlgo(s: string): HashAlgo {
  if (!isHashAlgo(s)) throw new NixFormatError('BAD_HASH', `unknown hash algorithm '${s}'`);
  return s;
}

export class Hash {
  private constructor(
    readonly algo: HashAlgo,
    readonly digest: Uint8Array,
  ) {}

  static fromDigest(algo: HashAlgo, digest: Uint8Array): Hash {
    if (digest.length !== HASH_SIZES[algo]) {
      throw new NixFormatError('BAD_HASH', `${algo} digest must be ${HASH_SIZES[algo]} bytes, got ${digest.length}`);
    }
    return new Hash(algo, Uint8Array.from(digest));
  }

  /** Hashes `data` (a string is hashed as its UTF-8 bytes). */
  static of(algo: HashAlgo, data: Uint8Array | string): Hash {
    return new Hash(algo, new Uint8Array(createHash(algo).update(data).digest()));
  }

  /**
   * Parses any form Nix accepts: `type:digest`, SRI `type-base64`, or (when `algo` is given)
   * an unprefixed digest in base16, nix32 or base64, recognised by its length.
   */
  static parse(s: string, algo?: HashAlgo): Hash {
    const colon = s.indexOf(':');
    if (colon >= 0) {
      const a = parseHashAlgo(s.slice(0, colon));
      if (algo !== undefined && a !== algo) throw new NixFormatError('BAD_HASH', `expected a ${algo} hash, got ${a}`);
      return Hash.parseUnprefixed(s.slice(colon + 1), a);
    }
    const dash = s.indexOf('-');
    if (dash >= 0 && isHashAlgo(s.slice(0, dash))) {
      const a = s.slice(0, dash) as HashAlgo;
      if (algo !== undefined && a !== algo) throw new NixFormatError('BAD_HASH', `expected a ${algo} hash, got ${a}`);
      return Hash.fromDigest(a, decodeBase64Strict(s.slice(dash + 1), HASH_SIZES[a]));
    }
    if (algo === undefined) throw new NixFormatError('BAD_HASH', `hash '${s}' has no type prefix`);
    return Hash.parseUnprefixed(s, algo);
  }

  /** Like Nix's parseAnyPrefixed: a type prefix (or SRI) is required. */
  static parsePrefixed(s: string): Hash {
    return Hash.parse(s);
  }

  static parseUnprefixed(s: string, algo: HashAlgo): Hash {
    const size = HASH_SIZES[algo];
    if (s.length === size * 2) return Hash.fromDigest(algo, decodeBase16(s));
    if (s.length === nix32Length(size)) return Hash.fromDigest(algo, decodeNix32(s, size));
    if (s.length === base64Length(size)) return Hash.fromDigest(algo, decodeBase64Strict(s, size));
    throw new NixFormatError('BAD_HASH', `hash '${s}' has wrong length for a ${algo} hash`);
  }

  encode(encoding: HashEncoding): string {
    switch (encoding) {
      case 'base16':
        return Buffer.from(this.digest).toString('hex');
      case 'nix32':
        return encodeNix32(this.digest);
      case 'base64':
        return Buffer.from(this.digest).toString('base64');
      case 'sri':
        return `${this.algo}-${Buffer.from(this.digest).toString('base64')}`;
    }
  }

  /** `<algo>:<encoding>`, e.g. `sha256:<nix32>` as Nix writes it in narinfo files. */
  toPrefixed(encoding: Exclude<HashEncoding, 'sri'> = 'nix32'): string {
    return `${this.algo}:${this.encode(encoding)}`;
  }

  get base16(): string {
    return this.encode('base16');
  }

  get nix32(): string {
    return this.encode('nix32');
  }

  equals(other: Hash): boolean {
    return this.algo === other.algo && Buffer.from(this.digest).equals(other.digest);
  }

  toString(): string {
    return this.toPrefixed('nix32');
  }
}

/** Folds a digest to `size` bytes by XOR, as Nix's compressHash does for store path hashes. */
export function compressHash(digest: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < digest.length; i++) out[i % size]! ^= digest[i]!;
  return out;
}

export function sha256(data: Uint8Array | string): Hash {
  return Hash.of('sha256', data);
}

function base64Length(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}

function decodeBase16(s: string): Uint8Array {
  if (!/^[0-9a-fA-F]*$/.test(s) || s.length % 2 !== 0) throw new NixFormatError('BAD_HASH', `invalid base16 string '${s}'`);
  return new Uint8Array(Buffer.from(s, 'hex'));
}

function decodeBase64Strict(s: string, size: number): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) throw new NixFormatError('BAD_HASH', `invalid base64 string '${s}'`);
  const bytes = new Uint8Array(Buffer.from(s, 'base64'));
  if (bytes.length !== size) throw new NixFormatError('BAD_HASH', `base64 hash decodes to ${bytes.length} bytes, expected ${size}`);
  return bytes;
}
