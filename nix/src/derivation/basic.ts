/**
 * BasicDerivation: the derivation as sent in BuildDerivation over both protocols (spec §5.4) — no
 * inputDrvs and no name (the receiver strips `.drv` from the drv path sent alongside). The wire
 * codec lives elsewhere; this module owns the type and how Nix's build hook fills it in:
 * if the derivation has inputDrvs, inputSrcs is *replaced* by the closure of (the wanted outputs
 * of every input derivation ∪ the original inputSrcs); otherwise inputSrcs is sent unchanged.
 *
 * The closure walk is an explicit-stack DFS: O(paths + references), no recursion.
 */
import { NixFormatError } from '../errors.js';
import { sortUtf8 } from './byte-order.js';
import type { Derivation, DerivationOutput } from './types.js';

export interface BasicDerivation {
  readonly outputs: ReadonlyMap<string, DerivationOutput>;
  readonly inputSrcs: readonly string[];
  /** Called `platform` on the wire. */
  readonly system: string;
  readonly builder: string;
  readonly args: readonly string[];
  readonly env: ReadonlyMap<string, string>;
}

export interface BuildInputs {
  /** Input drv path → output name → the output path (at least every wanted output). */
  readonly inputOutputPaths: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /**
   * Store path → its references, to close the input set as Nix does. Paths absent from the map
   * contribute only themselves; omit the map when the inputs' closures are not known.
   */
  readonly references?: ReadonlyMap<string, readonly string[]>;
}

/** Drops inputDrvs and keeps inputSrcs as they are (what Nix sends when inputDrvs is empty). */
export function toBasicDerivation(drv: Derivation): BasicDerivation {
  return { outputs: drv.outputs, inputSrcs: drv.inputSrcs, system: drv.system, builder: drv.builder, args: drv.args, env: drv.env };
}

/** The closure of `roots` under `references` (roots included), sorted bytewise. */
export function closureOf(roots: Iterable<string>, references?: ReadonlyMap<string, readonly string[]>): string[] {
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length > 0) {
    const p = stack.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    for (const r of references?.get(p) ?? []) if (!seen.has(r)) stack.push(r);
  }
  return sortUtf8(seen);
}

/** The BasicDerivation Nix 2.8's build hook sends for `drv` (build-remote.cc). */
export function resolveBasicDerivation(drv: Derivation, inputs: BuildInputs): BasicDerivation {
  if (drv.inputDrvs.size === 0) return toBasicDerivation(drv);
  const roots: string[] = [...drv.inputSrcs];
  for (const [drvPath, wanted] of drv.inputDrvs) {
    const paths = inputs.inputOutputPaths.get(drvPath);
    for (const outputName of wanted) {
      const p = paths?.get(outputName);
      if (p === undefined || p === '') {
        throw new NixFormatError('BAD_DERIVATION', `no output path given for output '${outputName}' of input derivation '${drvPath}'`, {
          field: `inputDrvs.${drvPath}`,
        });
      }
      roots.push(p);
    }
  }
  return { ...toBasicDerivation(drv), inputSrcs: closureOf(roots, inputs.references) };
}
