/**
 * Store paths: `<storeDir>/<32 nix32 chars>-<name>`, their validation, and the fingerprint
 * construction every kind of path shares (spec §4):
 *   hash32 = nix32(compressHash(sha256("<type>:sha256:<hex>:<storeDir>:<name>"), 20)).
 */
import { NixFormatError } from '../errors.js';
import { compressHash, sha256, type Hash } from '../hash/hash.js';
import { NIX32_ALPHABET, encodeNix32 } from '../hash/nix32.js';

export const DEFAULT_STORE_DIR = '/nix/store';
export const STORE_PATH_HASH_LENGTH = 32;
export const MAX_STORE_PATH_NAME_LENGTH = 211;

const NAME_RE = /^[0-9a-zA-Z+\-._?=]+$/;
const HASH_RE = new RegExp(`^[${NIX32_ALPHABET}]{${STORE_PATH_HASH_LENGTH}}$`);

/** A parsed store path. `baseName` is `<hash>-<name>`. */
export interface StorePath {
  readonly storeDir: string;
  readonly hashPart: string;
  readonly name: string;
  readonly baseName: string;
  readonly path: string;
}

/** Checks a store path name as Nix does; returns the reason it is invalid, or undefined. */
export function storePathNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'name is empty';
  if (name.length > MAX_STORE_PATH_NAME_LENGTH) return `name is longer than ${MAX_STORE_PATH_NAME_LENGTH} characters`;
  if (!NAME_RE.test(name)) {
    const bad = [...name].find((c) => !NAME_RE.test(c)) ?? '';
    return `name contains the forbidden character ${JSON.stringify(bad)}`;
  }
  // Nix >= 2.20 rejects these; they are never useful and would confuse tools that split on '-'.
  if (name === '.' || name === '..' || name.startsWith('.-') || name.startsWith('..-')) return `name '${name}' is not allowed`;
  return undefined;
}

export function validateStorePathName(name: string): string {
  const problem = storePathNameProblem(name);
  if (problem !== undefined) throw new NixFormatError('BAD_STORE_PATH', `invalid store path name '${name}': ${problem}`);
  return name;
}

/** Parses a base name `<hash>-<name>`. */
export function parseStorePathBaseName(baseName: string, storeDir: string = DEFAULT_STORE_DIR): StorePath {
  const hashPart = baseName.slice(0, STORE_PATH_HASH_LENGTH);
  if (baseName.length < STORE_PATH_HASH_LENGTH + 2 || baseName[STORE_PATH_HASH_LENGTH] !== '-' || !HASH_RE.test(hashPart)) {
    throw new NixFormatError('BAD_STORE_PATH', `'${baseName}' is not a store path base name (<32 nix32 chars>-<name>)`);
  }
  const name = baseName.slice(STORE_PATH_HASH_LENGTH + 1);
  validateStorePathName(name);
  return { storeDir, hashPart, name, baseName, path: `${storeDir}/${baseName}` };
}

/** Parses a full store path; it must be directly inside `storeDir`. */
export function parseStorePath(path: string, storeDir: string = DEFAULT_STORE_DIR): StorePath {
  const prefix = `${storeDir}/`;
  if (!path.startsWith(prefix)) throw new NixFormatError('BAD_STORE_PATH', `path '${path}' is not in the Nix store ${storeDir}`);
  const baseName = path.slice(prefix.length);
  if (baseName.includes('/')) throw new NixFormatError('BAD_STORE_PATH', `path '${path}' is not a top-level store path`);
  return parseStorePathBaseName(baseName, storeDir);
}

export function isStorePath(path: string, storeDir: string = DEFAULT_STORE_DIR): boolean {
  try {
    parseStorePath(path, storeDir);
    return true;
  } catch {
    return false;
  }
}

/** The fingerprint string hashed into a store path. */
export function storePathFingerprint(type: string, hash: Hash, name: string, storeDir: string = DEFAULT_STORE_DIR): string {
  if (hash.algo !== 'sha256') throw new NixFormatError('BAD_HASH', `store path fingerprints take a sha256, got ${hash.algo}`);
  return `${type}:sha256:${hash.base16}:${storeDir}:${name}`;
}

/** Nix's makeStorePath. */
export function makeStorePath(type: string, hash: Hash, name: string, storeDir: string = DEFAULT_STORE_DIR): string {
  validateStorePathName(name);
  const fp = storePathFingerprint(type, hash, name, storeDir);
  return `${storeDir}/${encodeNix32(compressHash(sha256(fp).digest, 20))}-${name}`;
}

/** Bytewise (memcmp) order, which is how Nix's std::set orders strings. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function sortedBytewise(items: Iterable<string>): string[] {
  return [...items].sort(compareBytes);
}
