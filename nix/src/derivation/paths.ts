/**
 * The store paths of a derivation: its `.drv` path (a text path whose references are inputSrcs ∪
 * inputDrvs keys, spec §5.2) and its output paths (§5.3: input-addressed via hashDerivationModulo,
 * fixed-output via makeFixedOutputPath). verifyDerivation recomputes them all so the coordinator
 * can refuse uploads whose paths do not belong to their contents.
 */
import { NixFormatError } from '../errors.js';
import { sha256 } from '../hash/hash.js';
import { makeFixedOutputPath, makeOutputPath, makeTextPath } from '../store-path/make-paths.js';
import { DEFAULT_STORE_DIR, parseStorePath, sortedBytewise } from '../store-path/store-path.js';
import { serialiseDerivationBytes } from './aterm-write.js';
import { derivationNameFromPath } from './attributes.js';
import { drvOutputId, hashDerivationModulo, type DrvHashMemo, type InputDerivationResolver } from './hash-modulo.js';
import { classifyOutputs } from './output-kind.js';
import type { Derivation } from './types.js';

export interface DerivationPathOptions {
  readonly storeDir?: string;
  readonly memo?: DrvHashMemo;
}

/** The references of the `.drv` file: inputSrcs ∪ input drv paths (output paths are not references). */
export function derivationReferences(drv: Derivation): string[] {
  return [...new Set([...drv.inputSrcs, ...drv.inputDrvs.keys()])];
}

/** The store path of the `.drv` file of derivation `name` (name without `.drv`). */
export function derivationPath(drv: Derivation, name: string, storeDir = DEFAULT_STORE_DIR): string {
  return makeTextPath(`${name}.drv`, sha256(serialiseDerivationBytes(drv)), derivationReferences(drv), storeDir);
}

/** The fingerprint hashed into the `.drv` path (`text:<refs>:sha256:<hex>:<storeDir>:<name>.drv`). */
export function derivationPathFingerprint(drv: Derivation, name: string, storeDir = DEFAULT_STORE_DIR): string {
  const refs = sortedBytewise(derivationReferences(drv));
  return `text${refs.map((r) => `:${r}`).join('')}:sha256:${sha256(serialiseDerivationBytes(drv)).base16}:${storeDir}:${name}.drv`;
}

/**
 * Output name → the path Nix would assign, or undefined for outputs without a static path
 * (floating, deferred, impure). Input derivations are fetched through `resolveInputDrv`.
 */
export async function computeOutputPaths(
  drv: Derivation,
  name: string,
  resolveInputDrv: InputDerivationResolver,
  options: DerivationPathOptions = {},
): Promise<Map<string, string | undefined>> {
  const storeDir = options.storeDir ?? DEFAULT_STORE_DIR;
  const kinds = classifyOutputs(drv, storeDir);
  const result = new Map<string, string | undefined>();
  const needsModulo = [...kinds.values()].some((k) => k.kind === 'input-addressed');
  const modulo = needsModulo
    ? await hashDerivationModulo(drv, true, resolveInputDrv, { storeDir, ...(options.memo ? { memo: options.memo } : {}) })
    : undefined;
  for (const [outputName, k] of kinds) {
    if (k.kind === 'fixed') {
      result.set(outputName, makeFixedOutputPath(k.method, k.hash, name, [], false, storeDir));
    } else if (k.kind === 'input-addressed' && modulo !== undefined && modulo.kind === 'regular') {
      result.set(outputName, makeOutputPath(outputName, modulo.hashes.get(outputName)!, name, storeDir));
    } else {
      result.set(outputName, undefined);
    }
  }
  return result;
}

/** Output name → DrvOutput id (`sha256:<hex>!<name>`), from the masked modulo hash. */
export async function drvOutputIds(
  drv: Derivation,
  resolveInputDrv: InputDerivationResolver,
  options: DerivationPathOptions = {},
): Promise<Map<string, string>> {
  const { hashes } = await hashDerivationModulo(drv, true, resolveInputDrv, {
    storeDir: options.storeDir ?? DEFAULT_STORE_DIR,
    ...(options.memo ? { memo: options.memo } : {}),
  });
  return new Map([...hashes].map(([o, h]) => [o, drvOutputId(h, o)]));
}

export interface DerivationMismatch {
  /** `drvPath`, `outputs.<name>.path` or `env.<name>`. */
  readonly field: string;
  readonly expected: string;
  readonly actual: string;
}

/**
 * Recomputes the drv path and every statically known output path (and the env var Nix sets to
 * each output path) and returns every disagreement; an empty list means the derivation is
 * exactly what Nix would have written at `drvPath`.
 */
export async function verifyDerivation(
  drvPath: string,
  drv: Derivation,
  resolveInputDrv: InputDerivationResolver,
  options: DerivationPathOptions = {},
): Promise<DerivationMismatch[]> {
  const storeDir = options.storeDir ?? DEFAULT_STORE_DIR;
  parseStorePath(drvPath, storeDir);
  const name = derivationNameFromPath(drvPath, storeDir);
  const mismatches: DerivationMismatch[] = [];
  const expectedDrvPath = derivationPath(drv, name, storeDir);
  if (expectedDrvPath !== drvPath) mismatches.push({ field: 'drvPath', expected: expectedDrvPath, actual: drvPath });
  const paths = await computeOutputPaths(drv, name, resolveInputDrv, options);
  for (const [outputName, expected] of paths) {
    const actual = drv.outputs.get(outputName)?.path ?? '';
    if (expected === undefined) continue;
    if (actual !== expected) mismatches.push({ field: `outputs.${outputName}.path`, expected, actual });
    const envValue = drv.env.get(outputName);
    if (envValue !== expected) mismatches.push({ field: `env.${outputName}`, expected, actual: envValue ?? '' });
  }
  return mismatches;
}

/** verifyDerivation that throws NixFormatError('DERIVATION_MISMATCH') naming the first field. */
export async function assertDerivationValid(
  drvPath: string,
  drv: Derivation,
  resolveInputDrv: InputDerivationResolver,
  options: DerivationPathOptions = {},
): Promise<void> {
  const mismatches = await verifyDerivation(drvPath, drv, resolveInputDrv, options);
  const first = mismatches[0];
  if (first !== undefined) {
    throw new NixFormatError(
      'DERIVATION_MISMATCH',
      `${drvPath}: ${first.field} is '${first.actual}' but should be '${first.expected}'` +
        (mismatches.length > 1 ? ` (and ${mismatches.length - 1} more mismatches)` : ''),
      { field: first.field },
    );
  }
}
