/**
 * The farm's binary cache signing key, kept in a file in Nix's own secret-key format
 * (`<name>:<base64 of seed ‖ public key>`, what `nix-store --generate-binary-cache-key` writes),
 * so an operator can inspect it, back it up, or use it with `nix store sign`.
 *
 * The key is created once: the first start writes it to a temp file (0600) and link(2)s it into
 * place, which fails with EEXIST instead of replacing — two processes starting together end up
 * with the same key, never with one each. Every later start reads it back. Clients trust the
 * public key, so a key that exists is never rotated here: when its name differs from `keyName`
 * (the config changed), the file's key wins.
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FarmError } from '@farm/common';
import { formatPublicKey, formatSecretKey, generateKeyPair, parseSecretKey, publicKeyOf, signDetached, type SecretKey } from '@farm/nix';

export interface CacheKey {
  readonly keyName: string;
  /** `<name>:<base64>`, the line for `trusted-public-keys`. */
  readonly publicKey: string;
  /** `<name>:<base64 signature>` over `fingerprint` (a narinfo `Sig:` value). */
  sign(fingerprint: string): string;
}

export function cacheKeyOf(secret: SecretKey): CacheKey {
  return {
    keyName: secret.name,
    publicKey: formatPublicKey(publicKeyOf(secret)),
    sign: (fingerprint) => signDetached(secret, fingerprint),
  };
}

/** Reads the Nix-format secret key file, or creates it (0600, parent dirs) with a fresh key named keyName. */
export async function loadOrCreateCacheKey(file: string, keyName: string): Promise<CacheKey> {
  const existing = await readKeyFile(file);
  if (existing !== undefined) return cacheKeyOf(existing);
  let secret: SecretKey;
  try {
    secret = generateKeyPair(keyName).secretKey;
  } catch (e) {
    throw new FarmError('INVALID_CONFIG', `cannot create the binary cache key: ${(e as Error).message}`, {}, { cause: e });
  }
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${randomUUID()}`;
  try {
    await writeFile(tmp, `${formatSecretKey(secret)}\n`, { mode: 0o600, flag: 'wx', flush: true });
    await link(tmp, file);
    return cacheKeyOf(secret);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new FarmError('INVALID_CONFIG', `cannot write the binary cache key file ${file}: ${(e as Error).message}`, {}, { cause: e });
    }
    // Another process created it first: use that one, as every later start will.
    const theirs = await readKeyFile(file);
    if (theirs === undefined) throw new FarmError('INTERNAL', `the binary cache key file ${file} vanished while it was created`);
    return cacheKeyOf(theirs);
  } finally {
    await rm(tmp, { force: true });
  }
}

async function readKeyFile(file: string): Promise<SecretKey | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FarmError('INVALID_CONFIG', `cannot read the binary cache key file ${file}: ${(e as Error).message}`, {}, { cause: e });
  }
  try {
    return parseSecretKey(text);
  } catch (e) {
    throw new FarmError('INVALID_CONFIG', `the binary cache key file ${file} is not a Nix secret key: ${(e as Error).message}`, {}, { cause: e });
  }
}
