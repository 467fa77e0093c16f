/**
 * Nix's key files (crypto.cc), as written by `nix-store --generate-binary-cache-key`:
 *   secret: `<name>:<base64 of 64 bytes = 32-byte seed ‖ 32-byte public key>` (libsodium layout)
 *   public: `<name>:<base64 of the 32-byte public key>`
 * The name is everything before the first ':' and must be non-empty. Unlike libsodium we check
 * that the public half of a secret key matches its seed: a mismatch would make every signature
 * unverifiable, and it is cheaper to say so when the key is loaded.
 */
import { NixFormatError } from '../errors.js';
import { decodeBase64Exact, encodeBase64 } from './base64.js';
import { PUBLIC_KEY_BYTES, SEED_BYTES, ed25519PublicKey, randomSeed } from './ed25519.js';

export interface PublicKey {
  readonly name: string;
  readonly key: Uint8Array;
}

export interface SecretKey {
  readonly name: string;
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
}

function splitKey(text: string, what: string): { name: string; data: string } {
  // Key files usually end in a newline (or were pasted with spaces); Nix's decoder skips it.
  const s = text.trim();
  const colon = s.indexOf(':');
  if (colon <= 0 || colon === s.length - 1) throw new NixFormatError('BAD_KEY', `${what} is not '<name>:<base64>'`);
  return { name: s.slice(0, colon), data: s.slice(colon + 1) };
}

export function parsePublicKey(text: string): PublicKey {
  const { name, data } = splitKey(text, 'public key');
  return { name, key: decodeBase64Exact(data, PUBLIC_KEY_BYTES, 'BAD_KEY', `public key '${name}'`) };
}

export function parseSecretKey(text: string): SecretKey {
  const { name, data } = splitKey(text, 'secret key');
  const bytes = decodeBase64Exact(data, SEED_BYTES + PUBLIC_KEY_BYTES, 'BAD_KEY', `secret key '${name}'`);
  const seed = bytes.slice(0, SEED_BYTES);
  const publicKey = bytes.slice(SEED_BYTES);
  if (!Buffer.from(ed25519PublicKey(seed)).equals(publicKey)) {
    throw new NixFormatError('BAD_KEY', `secret key '${name}': its public half does not belong to its seed`);
  }
  return { name, seed, publicKey };
}

export function formatPublicKey(key: PublicKey): string {
  return `${key.name}:${encodeBase64(key.key)}`;
}

export function formatSecretKey(key: SecretKey): string {
  const bytes = new Uint8Array(SEED_BYTES + PUBLIC_KEY_BYTES);
  bytes.set(key.seed, 0);
  bytes.set(key.publicKey, SEED_BYTES);
  return `${key.name}:${encodeBase64(bytes)}`;
}

export function publicKeyOf(secret: SecretKey): PublicKey {
  return { name: secret.name, key: secret.publicKey };
}

/** A secret key from a 32-byte seed (deterministic; used for fixed test keys). */
export function secretKeyFromSeed(name: string, seed: Uint8Array): SecretKey {
  validateKeyName(name);
  if (seed.length !== SEED_BYTES) throw new NixFormatError('BAD_KEY', `an ed25519 seed is ${SEED_BYTES} bytes, got ${seed.length}`);
  return { name, seed: Uint8Array.from(seed), publicKey: ed25519PublicKey(seed) };
}

/** A fresh key pair from the system's CSPRNG, like `nix-store --generate-binary-cache-key`. */
export function generateKeyPair(name: string): { secretKey: SecretKey; publicKey: PublicKey } {
  const secretKey = secretKeyFromSeed(name, randomSeed());
  return { secretKey, publicKey: publicKeyOf(secretKey) };
}

function validateKeyName(name: string): void {
  // A ':' would move the name/key split; whitespace would break the key file and Sig lines.
  if (name === '' || /[:\s]/.test(name)) throw new NixFormatError('BAD_KEY', `key name '${name}' must be non-empty without ':' or whitespace`);
}
