/**
 * Signing and verifying store path fingerprints (spec §9). A signature counts only if its key
 * name is among the trusted keys and the ed25519 check passes, exactly as Nix's
 * verifyDetached; signatures by unknown keys are ignored, malformed ones are reported.
 */
import { NixFormatError } from '../errors.js';
import { pathInfoFingerprint, type FingerprintInput } from '../narinfo/fingerprint.js';
import { ed25519Sign, ed25519Verify } from './ed25519.js';
import { parsePublicKey, type PublicKey, type SecretKey } from './keys.js';
import { formatSignature, parseSignature } from './signature.js';

/** Trusted public keys by name (Nix's PublicKeys map). */
export type PublicKeySet = ReadonlyMap<string, PublicKey>;

export function publicKeySet(keys: Iterable<PublicKey | string>): PublicKeySet {
  const set = new Map<string, PublicKey>();
  for (const k of keys) {
    const key = typeof k === 'string' ? parsePublicKey(k) : k;
    // Like Nix's map emplace, the first key of a name wins.
    if (!set.has(key.name)) set.set(key.name, key);
  }
  return set;
}

function bytesOf(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? new Uint8Array(Buffer.from(data, 'utf8')) : data;
}

/** `<keyName>:<base64 signature>` over `data`. */
export function signDetached(secret: SecretKey, data: Uint8Array | string): string {
  return formatSignature({ keyName: secret.name, signature: ed25519Sign(bytesOf(data), secret.seed) });
}

/**
 * True iff `sig` was made over `data` by a key in `trusted`. A signature whose key is not
 * trusted is simply not valid (false); a syntactically broken one throws BAD_SIGNATURE.
 */
export function verifyDetached(data: Uint8Array | string, sig: string, trusted: PublicKeySet): boolean {
  const parsed = parseSignature(sig);
  const key = trusted.get(parsed.keyName);
  if (key === undefined) return false;
  return ed25519Verify(parsed.signature, bytesOf(data), key.key);
}

export function signPathInfo(info: FingerprintInput, secret: SecretKey): string {
  return signDetached(secret, pathInfoFingerprint(info));
}

/** The signatures of `info` that verify against `trusted` (Nix's checkSignatures counts these). */
export function validPathInfoSignatures(info: FingerprintInput & { readonly sigs: readonly string[] }, trusted: PublicKeySet): string[] {
  const fingerprint = pathInfoFingerprint(info);
  return info.sigs.filter((s) => verifyDetached(fingerprint, s, trusted));
}

/** Throws BAD_SIGNATURE unless at least one signature of `info` verifies against `trusted`. */
export function assertPathInfoSigned(info: FingerprintInput & { readonly sigs: readonly string[] }, trusted: PublicKeySet): void {
  if (validPathInfoSignatures(info, trusted).length === 0) {
    throw new NixFormatError('BAD_SIGNATURE', `'${info.path}' has no signature by a trusted key (${[...trusted.keys()].join(', ') || 'none trusted'})`, {
      field: 'sigs',
    });
  }
}
