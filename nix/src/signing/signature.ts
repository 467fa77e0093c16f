/**
 * Detached signatures as Nix writes them in narinfo `Sig:` lines and path-info `sigs`:
 * `<keyName>:<base64 of the 64-byte ed25519 signature>`. The key name is everything before
 * the first ':' (as in Nix's crypto.cc) and must be non-empty.
 */
import { NixFormatError } from '../errors.js';
import { decodeBase64Exact, encodeBase64 } from './base64.js';

export const SIGNATURE_BYTES = 64;

export interface Signature {
  readonly keyName: string;
  readonly signature: Uint8Array;
}

export function parseSignature(s: string): Signature {
  const colon = s.indexOf(':');
  if (colon <= 0 || colon === s.length - 1) {
    throw new NixFormatError('BAD_SIGNATURE', `signature '${s}' is not '<keyName>:<base64>'`);
  }
  const keyName = s.slice(0, colon);
  return { keyName, signature: decodeBase64Exact(s.slice(colon + 1), SIGNATURE_BYTES, 'BAD_SIGNATURE', `signature by '${keyName}'`) };
}

export function formatSignature(sig: Signature): string {
  return `${sig.keyName}:${encodeBase64(sig.signature)}`;
}
