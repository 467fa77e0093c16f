/**
 * `nix show-derivation` JSON in Nix 2.8's shape (spec §5.5):
 *   { "<drvPath>": { outputs: { <name>: { path[, hashAlgo, hash] } }, inputSrcs, inputDrvs,
 *                    system, builder, args, env } }
 * As in Nix 2.8, a fixed output's path is the one recomputed from its hash and the derivation
 * name, floating outputs show only hashAlgo, deferred outputs are `{}` and impure ones add
 * `"impure": true`.
 */
import { makeFixedOutputPath } from '../store-path/make-paths.js';
import { DEFAULT_STORE_DIR } from '../store-path/store-path.js';
import { derivationNameFromPath } from './attributes.js';
import { compareUtf8 } from './byte-order.js';
import { classifyOutput, renderOutputHashAlgo } from './output-kind.js';
import type { Derivation } from './types.js';

export interface ShowDerivationOutput {
  path?: string;
  hashAlgo?: string;
  hash?: string;
  impure?: boolean;
}

export interface ShowDerivationEntry {
  outputs: Record<string, ShowDerivationOutput>;
  inputSrcs: string[];
  inputDrvs: Record<string, string[]>;
  system: string;
  builder: string;
  args: string[];
  env: Record<string, string>;
}

/** A plain object built with defineProperty, so env names such as `__proto__` are ordinary keys. */
function record<V>(entries: Iterable<[string, V]>): Record<string, V> {
  const out: Record<string, V> = {};
  for (const [k, v] of [...entries].sort((a, b) => compareUtf8(a[0], b[0]))) {
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

export function showDerivationEntry(drvPath: string, drv: Derivation, storeDir = DEFAULT_STORE_DIR): ShowDerivationEntry {
  const name = derivationNameFromPath(drvPath, storeDir);
  const outputs = record(
    [...drv.outputs].map(([outputName, o]): [string, ShowDerivationOutput] => {
      const k = classifyOutput(outputName, o, storeDir);
      switch (k.kind) {
        case 'input-addressed':
          return [outputName, { path: k.path }];
        case 'fixed':
          return [
            outputName,
            { path: makeFixedOutputPath(k.method, k.hash, name, [], false, storeDir), hashAlgo: o.hashAlgo, hash: k.hash.base16 },
          ];
        case 'floating':
          return [outputName, { hashAlgo: renderOutputHashAlgo(k.method, k.algo) }];
        case 'deferred':
          return [outputName, {}];
        case 'impure':
          return [outputName, { hashAlgo: renderOutputHashAlgo(k.method, k.algo), impure: true }];
      }
    }),
  );
  return {
    outputs,
    inputSrcs: [...drv.inputSrcs],
    inputDrvs: record([...drv.inputDrvs].map(([p, names]): [string, string[]] => [p, [...names]])),
    system: drv.system,
    builder: drv.builder,
    args: [...drv.args],
    env: record(drv.env),
  };
}

/** The whole `nix show-derivation` object for several derivations, keyed by drv path. */
export function showDerivations(entries: Iterable<readonly [string, Derivation]>, storeDir = DEFAULT_STORE_DIR): Record<string, ShowDerivationEntry> {
  return record([...entries].map(([p, d]): [string, ShowDerivationEntry] => [p, showDerivationEntry(p, d, storeDir)]));
}
