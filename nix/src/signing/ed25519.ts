/**
 * The one ed25519 implementation of this library: @noble/ed25519 (RFC 8032, deterministic),
 * whose synchronous API needs a SHA-512 function wired in. We install @noble/hashes' sha512
 * once when this module loads; the assignment is idempotent and is the library's documented
 * way to enable sync signing, so it is the only module-level mutation here.
 *
 * Verification uses RFC 8032 / libsodium strictness (zip215: false), so a signature Nix
 * (libsodium's crypto_sign_verify_detached) would reject is rejected here too.
 */
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { randomBytes } from 'node:crypto';

if (ed.hashes.sha512 === undefined) ed.hashes.sha512 = sha512;

export const SEED_BYTES = 32;
export const PUBLIC_KEY_BYTES = 32;

export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  return ed.getPublicKey(seed);
}

export function ed25519Sign(message: Uint8Array, seed: Uint8Array): Uint8Array {
  return ed.sign(message, seed);
}

/** False for a wrong signature, a wrong key or a public key that is not a curve point. */
export function ed25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    return ed.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

export function randomSeed(): Uint8Array {
  return new Uint8Array(randomBytes(SEED_BYTES));
}
