/**
 * The in-memory form of a Nix derivation (spec §5.1). Fields keep exactly the strings of the
 * ATerm tuple so that parse → serialise is byte-exact; the meaning of an output (input-addressed,
 * fixed, floating, …) is derived from those strings by `classifyOutput` (output-kind.ts).
 *
 * Maps are used instead of plain objects because env names are arbitrary strings (`__proto__`
 * is a legal env name) and because Map iteration order is insertion order; the serialiser sorts
 * bytewise anyway, so a hand-built derivation does not need to be pre-sorted.
 */

/** One `("<name>","<path>","<hashAlgo>","<hash>")` tuple, without the name. */
export interface DerivationOutput {
  /** The output path, or "" for outputs whose path is not known statically. */
  readonly path: string;
  /** "" (input-addressed/deferred) or `<r:?><algo>` such as `sha256` / `r:sha256`. */
  readonly hashAlgo: string;
  /** "" , the base16 digest of a fixed output, or `impure`. */
  readonly hash: string;
}

export interface Derivation {
  /** Output name → output. Never empty for a valid derivation. */
  readonly outputs: ReadonlyMap<string, DerivationOutput>;
  /** Input drv path → the names of the outputs used (sorted, non-empty). */
  readonly inputDrvs: ReadonlyMap<string, readonly string[]>;
  /** Input source store paths (sorted). */
  readonly inputSrcs: readonly string[];
  readonly system: string;
  readonly builder: string;
  readonly args: readonly string[];
  readonly env: ReadonlyMap<string, string>;
}
