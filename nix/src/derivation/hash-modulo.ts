/**
 * hashDerivationModulo (spec §5.3): a sha256 per output that does not depend on how fixed-output
 * inputs are produced, only on what they contain. Input-addressed output paths and DrvOutput ids
 * are made from it.
 *
 * Invariants: inputs are always hashed unmasked and memoised per drv path in the caller-supplied
 * memo (so a whole graph costs one hash per derivation); inputs are visited one after another, so
 * the set of ancestors on the current path is exact and a cycle (impossible for real store paths,
 * possible with a hostile resolver) is reported instead of deadlocking. The recursion is `async`,
 * so each level resumes from a microtask and deep chains do not grow the native stack.
 * Complexity: O(total ATerm size of the input closure) hashing work.
 */
import { NixFormatError } from '../errors.js';
import { sha256, type Hash } from '../hash/hash.js';
import { DEFAULT_STORE_DIR } from '../store-path/store-path.js';
import { serialiseDerivation } from './aterm-write.js';
import { derivationType } from './output-kind.js';
import type { Derivation } from './types.js';

/** Looks up an input derivation by drv path (e.g. reads and parses the `.drv` file). */
export type InputDerivationResolver = (drvPath: string) => Derivation | Promise<Derivation>;

export interface DrvHashes {
  /** Output name → hash. For a regular input-addressed derivation every output has the same hash. */
  readonly hashes: ReadonlyMap<string, Hash>;
  /** `deferred` when the derivation (or an input) has no statically known output paths. */
  readonly kind: 'regular' | 'deferred';
}

/** Memo of the unmasked hashes of input derivations, keyed by drv path; share it across calls. */
export type DrvHashMemo = Map<string, DrvHashes>;

export interface HashModuloOptions {
  readonly memo?: DrvHashMemo;
  readonly storeDir?: string;
}

/** `fixed:out:<r:?><algo>:<hex>:<outPath>`, the preimage of a fixed-output derivation's hash. */
export function fixedOutputModuloPreimage(drv: Derivation, storeDir = DEFAULT_STORE_DIR): string {
  const out = drv.outputs.get('out');
  if (out === undefined || derivationType(drv, storeDir) !== 'fixed-output') {
    throw new NixFormatError('BAD_DERIVATION', 'not a fixed-output derivation', { field: 'outputs' });
  }
  return `fixed:out:${out.hashAlgo}:${out.hash}:${out.path}`;
}

/**
 * The ATerm that hashDerivationModulo hashes for a non-fixed derivation: inputDrvs replaced by
 * the hex hashes of the inputs (merged, sorted as strings), outputs masked when asked.
 */
export async function derivationModuloAterm(
  drv: Derivation,
  maskOutputs: boolean,
  resolveInputDrv: InputDerivationResolver,
  options: HashModuloOptions = {},
): Promise<string> {
  const memo = options.memo ?? new Map();
  const { text } = await moduloText(drv, maskOutputs, resolveInputDrv, memo, new Set(), options.storeDir ?? DEFAULT_STORE_DIR);
  return text;
}

export async function hashDerivationModulo(
  drv: Derivation,
  maskOutputs: boolean,
  resolveInputDrv: InputDerivationResolver,
  options: HashModuloOptions = {},
): Promise<DrvHashes> {
  return hashModulo(drv, maskOutputs, resolveInputDrv, options.memo ?? new Map(), new Set(), options.storeDir ?? DEFAULT_STORE_DIR);
}

/** The DrvOutput id of a realisation: `sha256:<hex>!<output>`. */
export function drvOutputId(hashModuloMasked: Hash, outputName: string): string {
  return `${hashModuloMasked.algo}:${hashModuloMasked.base16}!${outputName}`;
}

const IMPURE_OUTPUT_HASH = sha256('impure');

async function hashModulo(
  drv: Derivation,
  maskOutputs: boolean,
  resolve: InputDerivationResolver,
  memo: DrvHashMemo,
  ancestors: Set<string>,
  storeDir: string,
): Promise<DrvHashes> {
  const type = derivationType(drv, storeDir);
  if (type === 'fixed-output') {
    return { hashes: new Map([['out', sha256(fixedOutputModuloPreimage(drv, storeDir))]]), kind: 'regular' };
  }
  if (type === 'impure') {
    return { hashes: new Map([...drv.outputs.keys()].map((o) => [o, IMPURE_OUTPUT_HASH])), kind: 'deferred' };
  }
  const { text, inputsDeferred } = await moduloText(drv, maskOutputs, resolve, memo, ancestors, storeDir);
  const hash = sha256(text);
  const kind = type === 'input-addressed' && !inputsDeferred ? 'regular' : 'deferred';
  return { hashes: new Map([...drv.outputs.keys()].map((o) => [o, hash])), kind };
}

async function moduloText(
  drv: Derivation,
  maskOutputs: boolean,
  resolve: InputDerivationResolver,
  memo: DrvHashMemo,
  ancestors: Set<string>,
  storeDir: string,
): Promise<{ text: string; inputsDeferred: boolean }> {
  const replaced = new Map<string, Set<string>>();
  let inputsDeferred = false;
  for (const [drvPath, wanted] of drv.inputDrvs) {
    const input = await inputHashes(drvPath, resolve, memo, ancestors, storeDir);
    if (input.kind === 'deferred') inputsDeferred = true;
    for (const outputName of wanted) {
      const h = input.hashes.get(outputName);
      if (h === undefined) {
        throw new NixFormatError('BAD_DERIVATION', `input derivation '${drvPath}' has no output '${outputName}'`, { field: `inputDrvs.${drvPath}` });
      }
      const key = h.base16;
      const names = replaced.get(key) ?? new Set<string>();
      names.add(outputName);
      replaced.set(key, names);
    }
  }
  return { text: serialiseDerivation(drv, { maskOutputs, inputDrvsOverride: replaced }), inputsDeferred };
}

async function inputHashes(
  drvPath: string,
  resolve: InputDerivationResolver,
  memo: DrvHashMemo,
  ancestors: Set<string>,
  storeDir: string,
): Promise<DrvHashes> {
  const cached = memo.get(drvPath);
  if (cached !== undefined) return cached;
  if (ancestors.has(drvPath)) throw new NixFormatError('BAD_DERIVATION', `input derivation cycle through '${drvPath}'`, { field: 'inputDrvs' });
  ancestors.add(drvPath);
  try {
    const input = await resolve(drvPath);
    const result = await hashModulo(input, false, resolve, memo, ancestors, storeDir);
    memo.set(drvPath, result);
    return result;
  } finally {
    ancestors.delete(drvPath);
  }
}
