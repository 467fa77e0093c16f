/**
 * What an output tuple means (spec §5.1 "Output tuple forms") and what the derivation as a whole
 * is (Nix's BasicDerivation::type): every output must be of the same kind, a fixed-output
 * derivation has exactly one output named `out`, floating outputs share one hash algorithm.
 */
import { NixFormatError } from '../errors.js';
import { HASH_SIZES, Hash, isHashAlgo, type HashAlgo } from '../hash/hash.js';
import type { FileIngestionMethod } from '../store-path/make-paths.js';
import { DEFAULT_STORE_DIR, parseStorePath } from '../store-path/store-path.js';
import type { Derivation, DerivationOutput } from './types.js';

export type OutputKind =
  | { readonly kind: 'input-addressed'; readonly path: string }
  | { readonly kind: 'fixed'; readonly path: string; readonly method: FileIngestionMethod; readonly hash: Hash }
  | { readonly kind: 'floating'; readonly method: FileIngestionMethod; readonly algo: HashAlgo }
  | { readonly kind: 'deferred' }
  | { readonly kind: 'impure'; readonly method: FileIngestionMethod; readonly algo: HashAlgo };

/** The derivation kinds; the first two are the `kind` values of derivations.json. */
export type DerivationType = 'input-addressed' | 'fixed-output' | 'floating-ca' | 'deferred' | 'impure';

const BASE16_RE = /^[0-9a-f]*$/;

function bad(message: string, field: string): NixFormatError {
  return new NixFormatError('BAD_DERIVATION', message, { field });
}

/** Splits `r:sha256` into method and algorithm. */
export function parseOutputHashAlgo(hashAlgo: string, field = 'hashAlgo'): { method: FileIngestionMethod; algo: HashAlgo } {
  const recursive = hashAlgo.startsWith('r:');
  const algo = recursive ? hashAlgo.slice(2) : hashAlgo;
  if (!isHashAlgo(algo)) throw bad(`unknown output hash algorithm '${hashAlgo}'`, field);
  return { method: recursive ? 'recursive' : 'flat', algo };
}

/** The `<r:?><algo>` string of a method and algorithm. */
export function renderOutputHashAlgo(method: FileIngestionMethod, algo: HashAlgo): string {
  return `${method === 'recursive' ? 'r:' : ''}${algo}`;
}

function checkPath(path: string, field: string, storeDir: string): void {
  try {
    parseStorePath(path, storeDir);
  } catch (e) {
    throw new NixFormatError('BAD_DERIVATION', `invalid output path '${path}': ${(e as Error).message}`, { field, cause: e });
  }
}

/**
 * Interprets one output tuple. Stricter than Nix in one place: a fixed hash must be lowercase
 * base16 (which is what Nix writes), so that parse → serialise stays byte-exact.
 */
export function classifyOutput(name: string, output: DerivationOutput, storeDir = DEFAULT_STORE_DIR): OutputKind {
  const field = `outputs.${name}`;
  if (output.hashAlgo === '') {
    if (output.hash !== '') throw bad(`output '${name}' has a hash but no hash algorithm`, `${field}.hash`);
    if (output.path === '') return { kind: 'deferred' };
    checkPath(output.path, `${field}.path`, storeDir);
    return { kind: 'input-addressed', path: output.path };
  }
  const { method, algo } = parseOutputHashAlgo(output.hashAlgo, `${field}.hashAlgo`);
  if (output.hash === 'impure') {
    if (output.path !== '') throw bad(`impure output '${name}' must have an empty path`, `${field}.path`);
    return { kind: 'impure', method, algo };
  }
  if (output.hash === '') {
    if (output.path !== '') throw bad(`floating content-addressed output '${name}' must have an empty path`, `${field}.path`);
    return { kind: 'floating', method, algo };
  }
  if (output.hash.length !== HASH_SIZES[algo] * 2 || !BASE16_RE.test(output.hash)) {
    throw bad(`fixed output '${name}' hash must be ${HASH_SIZES[algo] * 2} lowercase base16 digits for ${algo}`, `${field}.hash`);
  }
  if (output.path === '') throw bad(`fixed output '${name}' has an empty path`, `${field}.path`);
  checkPath(output.path, `${field}.path`, storeDir);
  return { kind: 'fixed', path: output.path, method, hash: Hash.parseUnprefixed(output.hash, algo) };
}

/** Every output classified, in the derivation's (sorted) order. */
export function classifyOutputs(drv: Derivation, storeDir = DEFAULT_STORE_DIR): Map<string, OutputKind> {
  const out = new Map<string, OutputKind>();
  for (const [name, o] of drv.outputs) out.set(name, classifyOutput(name, o, storeDir));
  return out;
}

/** Nix's BasicDerivation::type(): refuses empty output sets and mixed kinds. */
export function derivationType(drv: Derivation, storeDir = DEFAULT_STORE_DIR): DerivationType {
  const kinds = classifyOutputs(drv, storeDir);
  const first = kinds.values().next();
  if (first.done === true) throw bad('a derivation must have at least one output', 'outputs');
  const k0 = first.value;
  for (const [name, k] of kinds) {
    if (k.kind !== k0.kind) throw bad(`cannot mix ${k0.kind} and ${k.kind} outputs (output '${name}')`, `outputs.${name}`);
    if (k.kind === 'floating' && k0.kind === 'floating' && k.algo !== k0.algo) {
      throw bad(`all floating outputs must use the same hash algorithm (output '${name}')`, `outputs.${name}.hashAlgo`);
    }
  }
  switch (k0.kind) {
    case 'input-addressed':
      return 'input-addressed';
    case 'fixed':
      if (kinds.size !== 1 || !kinds.has('out')) throw bad('a fixed-output derivation must have exactly one output, named out', 'outputs');
      return 'fixed-output';
    case 'floating':
      return 'floating-ca';
    case 'deferred':
      return 'deferred';
    case 'impure':
      return 'impure';
  }
}

export function isFixedOutput(drv: Derivation, storeDir = DEFAULT_STORE_DIR): boolean {
  return derivationType(drv, storeDir) === 'fixed-output';
}

/** Output paths are known before building only for input-addressed and fixed-output derivations. */
export function hasKnownOutputPaths(type: DerivationType): boolean {
  return type === 'input-addressed' || type === 'fixed-output';
}
