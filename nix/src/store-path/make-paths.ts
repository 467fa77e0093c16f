/**
 * The kinds of store path Nix computes (spec §4.2): text paths (with references), source
 * paths (NAR sha256 with references and optional self-reference), fixed-output paths
 * (flat or recursive with any algorithm) and output paths of input-addressed derivations.
 */
import { NixFormatError } from '../errors.js';
import { sha256, type Hash } from '../hash/hash.js';
import { DEFAULT_STORE_DIR, makeStorePath, sortedBytewise } from './store-path.js';

export type FileIngestionMethod = 'flat' | 'recursive';

function typeWithReferences(base: string, references: Iterable<string>, hasSelfReference = false): string {
  let type = base;
  for (const ref of sortedBytewise(references)) type += `:${ref}`;
  if (hasSelfReference) type += ':self';
  return type;
}

/** A text path such as a `.drv` file or `builtins.toFile`; `hash` is the sha256 of the contents. */
export function makeTextPath(name: string, hash: Hash, references: Iterable<string> = [], storeDir = DEFAULT_STORE_DIR): string {
  if (hash.algo !== 'sha256') throw new NixFormatError('BAD_HASH', `text paths take a sha256 hash, got ${hash.algo}`);
  return makeStorePath(typeWithReferences('text', references), hash, name, storeDir);
}

/** Convenience: the text path of `contents`. */
export function makeTextPathFromContents(
  name: string,
  contents: string | Uint8Array,
  references: Iterable<string> = [],
  storeDir = DEFAULT_STORE_DIR,
): string {
  return makeTextPath(name, sha256(contents), references, storeDir);
}

/** A source path: `narHash` is the sha256 of the NAR (nix-store --add, path literals). */
export function makeSourcePath(
  name: string,
  narHash: Hash,
  references: Iterable<string> = [],
  hasSelfReference = false,
  storeDir = DEFAULT_STORE_DIR,
): string {
  return makeStorePath(typeWithReferences('source', references, hasSelfReference), narHash, name, storeDir);
}

/**
 * Nix's makeFixedOutputPath: recursive sha256 is a source path; anything else hashes the inner
 * string `fixed:out:<r:?><algo>:<hex>:`.
 */
export function makeFixedOutputPath(
  method: FileIngestionMethod,
  hash: Hash,
  name: string,
  references: Iterable<string> = [],
  hasSelfReference = false,
  storeDir = DEFAULT_STORE_DIR,
): string {
  if (method === 'recursive' && hash.algo === 'sha256') return makeSourcePath(name, hash, references, hasSelfReference, storeDir);
  const refs = [...references];
  if (refs.length > 0 || hasSelfReference) {
    throw new NixFormatError('BAD_STORE_PATH', 'a fixed-output path other than recursive sha256 cannot have references');
  }
  return makeStorePath('output:out', sha256(fixedOutputInnerString(method, hash)), name, storeDir);
}

export function fixedOutputInnerString(method: FileIngestionMethod, hash: Hash): string {
  return `fixed:out:${method === 'recursive' ? 'r:' : ''}${hash.algo}:${hash.base16}:`;
}

/** The output path of output `outputName` of an input-addressed derivation. */
export function makeOutputPath(outputName: string, hashModulo: Hash, drvName: string, storeDir = DEFAULT_STORE_DIR): string {
  return makeStorePath(`output:${outputName}`, hashModulo, outputPathName(drvName, outputName), storeDir);
}

/** `name` for the `out` output, `name-<output>` otherwise. */
export function outputPathName(drvName: string, outputName: string): string {
  return outputName === 'out' ? drvName : `${drvName}-${outputName}`;
}

/** Content-address strings as in path infos and narinfo `CA:` lines. */
export type ContentAddress =
  | { readonly method: 'text'; readonly hash: Hash }
  | { readonly method: 'fixed'; readonly ingestion: FileIngestionMethod; readonly hash: Hash };

export function renderContentAddress(ca: ContentAddress): string {
  if (ca.method === 'text') return `text:${ca.hash.toPrefixed('nix32')}`;
  return `fixed:${ca.ingestion === 'recursive' ? 'r:' : ''}${ca.hash.toPrefixed('nix32')}`;
}
