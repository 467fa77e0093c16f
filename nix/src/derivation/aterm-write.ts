/**
 * Serialises a derivation to the ATerm text Nix writes (spec §5.1), and the two variants
 * hashDerivationModulo needs (§5.3): outputs masked, and inputDrvs replaced by hash keys.
 * Only builder, args and env are escaped; every list that Nix keeps in a std::map/std::set is
 * sorted bytewise here, so a hand-built Derivation need not be pre-sorted. O(total size + sort).
 */
import { compareUtf8, sortUtf8 } from './byte-order.js';
import type { Derivation } from './types.js';

export interface SerialiseOptions {
  /** Blank every output path and every env var named after an output (hashDerivationModulo). */
  readonly maskOutputs?: boolean;
  /** Written in place of inputDrvs (keys are the hex hash strings of §5.3). */
  readonly inputDrvsOverride?: ReadonlyMap<string, Iterable<string>>;
}

const ESCAPES: Readonly<Record<string, string>> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function escapeAtermString(s: string): string {
  return `"${s.replace(/["\\\n\r\t]/g, (c) => ESCAPES[c]!)}"`;
}

function raw(s: string): string {
  return `"${s}"`;
}

function list(items: readonly string[]): string {
  return `[${items.join(',')}]`;
}

function sortedEntries<V>(m: ReadonlyMap<string, V>): [string, V][] {
  return [...m].sort((a, b) => compareUtf8(a[0], b[0]));
}

export function serialiseDerivation(drv: Derivation, options: SerialiseOptions = {}): string {
  const mask = options.maskOutputs === true;
  const outputs = sortedEntries(drv.outputs).map(
    ([name, o]) => `(${raw(name)},${raw(mask ? '' : o.path)},${raw(o.hashAlgo)},${raw(o.hash)})`,
  );
  const inputMap = options.inputDrvsOverride ?? drv.inputDrvs;
  const inputDrvs = sortedEntries(inputMap).map(([path, names]) => `(${raw(path)},${list(sortUtf8(new Set(names)).map(raw))})`);
  const inputSrcs = sortUtf8(new Set(drv.inputSrcs)).map(raw);
  const env = sortedEntries(drv.env).map(
    ([name, value]) => `(${escapeAtermString(name)},${escapeAtermString(mask && drv.outputs.has(name) ? '' : value)})`,
  );
  return (
    `Derive(${list(outputs)},${list(inputDrvs)},${list(inputSrcs)},${raw(drv.system)},` +
    `${escapeAtermString(drv.builder)},${list(drv.args.map(escapeAtermString))},${list(env)})`
  );
}

/** The exact bytes of the `.drv` file. */
export function serialiseDerivationBytes(drv: Derivation, options: SerialiseOptions = {}): Uint8Array {
  return new TextEncoder().encode(serialiseDerivation(drv, options));
}
