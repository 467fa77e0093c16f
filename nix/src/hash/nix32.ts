/**
 * Nix's base-32 ("nix32"): the digest read as a little-endian integer, written in base 32
 * most significant digit first, over an alphabet without e, o, u, t. Not RFC 4648.
 * Length for n bytes: floor((8n - 1) / 5) + 1. O(n) time and space.
 */
import { NixFormatError } from '../errors.js';

export const NIX32_ALPHABET = '0123456789abcdfghijklmnpqrsvwxyz';

const DIGIT_OF = new Int8Array(128).fill(-1);
for (let i = 0; i < NIX32_ALPHABET.length; i++) DIGIT_OF[NIX32_ALPHABET.charCodeAt(i)] = i;

export function nix32Length(byteLength: number): number {
  return Math.floor((byteLength * 8 - 1) / 5) + 1;
}

export function encodeNix32(bytes: Uint8Array): string {
  const len = nix32Length(bytes.length);
  let out = '';
  for (let n = len - 1; n >= 0; n--) {
    const bit = n * 5;
    const i = bit >> 3;
    const j = bit & 7;
    const lo = bytes[i]! >> j;
    const hi = i + 1 < bytes.length ? bytes[i + 1]! << (8 - j) : 0;
    out += NIX32_ALPHABET[(lo | hi) & 0x1f];
  }
  return out;
}

/** Decodes `s` into exactly `byteLength` bytes; rejects bad characters and overflowing values. */
export function decodeNix32(s: string, byteLength: number): Uint8Array {
  if (s.length !== nix32Length(byteLength)) {
    throw new NixFormatError('BAD_HASH', `nix32 string has length ${s.length}, expected ${nix32Length(byteLength)}`);
  }
  const out = new Uint8Array(byteLength);
  for (let n = 0; n < s.length; n++) {
    const c = s.charCodeAt(s.length - n - 1);
    const digit = c < 128 ? DIGIT_OF[c]! : -1;
    if (digit < 0) throw new NixFormatError('BAD_HASH', `invalid nix32 character ${JSON.stringify(s[s.length - n - 1])}`);
    const bit = n * 5;
    const i = bit >> 3;
    const j = bit & 7;
    out[i]! |= (digit << j) & 0xff;
    const carry = digit >> (8 - j);
    if (i + 1 < byteLength) out[i + 1]! |= carry;
    else if (carry !== 0) throw new NixFormatError('BAD_HASH', `nix32 string ${JSON.stringify(s)} does not fit in ${byteLength} bytes`);
  }
  return out;
}
