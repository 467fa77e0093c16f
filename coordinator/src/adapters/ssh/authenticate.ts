/**
 * Public-key authentication against the authorized keys, and nothing else (every other method
 * is answered with reject(['publickey'])). A client first asks
 * whether a key would do (no signature: answered with PK_OK, which authenticates nobody), then
 * proves it holds the private key by signing the session id; only a signature that verifies
 * against the listed key logs in. Key blobs are compared in constant time, and every listed key
 * is compared, so the timing says nothing about which keys are listed.
 */
import { timingSafeEqual } from 'node:crypto';
import type { AuthContext } from 'ssh2';
import type { AuthorizedKey } from './authorized-keys.js';

export type AuthDecision =
  | { readonly kind: 'authenticated'; readonly key: AuthorizedKey }
  /** The client asked whether the key is listed; the answer was yes, a signature must follow. */
  | { readonly kind: 'key-ok'; readonly key: AuthorizedKey }
  | { readonly kind: 'rejected'; readonly reason: string };

function sameBytes(a: Buffer, b: Buffer): boolean {
  // timingSafeEqual needs equal lengths; compare with itself on a mismatch so the work is the same.
  const equalLength = a.length === b.length;
  return timingSafeEqual(a, equalLength ? b : a) && equalLength;
}

function findKey(blob: Buffer, keys: readonly AuthorizedKey[]): AuthorizedKey | undefined {
  let found: AuthorizedKey | undefined;
  for (const k of keys) {
    if (sameBytes(blob, k.blob) && found === undefined) found = k;
  }
  return found;
}

/**
 * Decides `ctx` without answering it: the caller records who logged in before it accepts, since
 * ssh2 emits 'ready' from inside accept().
 */
export function decideAuthentication(ctx: AuthContext, keys: readonly AuthorizedKey[]): AuthDecision {
  const reject = (reason: string): AuthDecision => ({ kind: 'rejected', reason });
  if (ctx.method !== 'publickey') return reject(`method ${ctx.method} is not offered`);
  const key = findKey(ctx.key.data, keys);
  // The blob names its type; an algorithm that does not fit it (rsa-sha2-* is reported as ssh-rsa) is refused.
  if (key === undefined || ctx.key.algo !== key.keyType) return reject('key not authorized');
  if (ctx.signature === undefined || ctx.blob === undefined) return { kind: 'key-ok', key };
  let verified = false;
  try {
    verified = key.key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true;
  } catch {
    verified = false;
  }
  return verified ? { kind: 'authenticated', key } : reject('signature does not verify');
}
