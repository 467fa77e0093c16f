/**
 * The closure of some `.drv` files (themselves, their input derivations, and the input sources
 * of all of them) with Nix's path info for each, from `nix path-info --json --derivation
 * --recursive` over batches of roots: one process per batch, never one per path. `--derivation`
 * makes Nix report the `.drv` itself rather than its outputs.
 */
import { FarmError } from '@farm/common';
import { Hash } from '@farm/nix';
import { nixErrorSummary, runNix, type NixToolOptions } from './run-nix.js';

export interface StorePathInfo {
  readonly path: string;
  readonly narHash: Hash;
  readonly narSize: bigint;
  /** Sorted as Nix lists them. */
  readonly references: readonly string[];
  /** `text:sha256:…` for drvs, `fixed:r:sha256:…` for added sources; absent if Nix has none. */
  readonly ca?: string;
}

/** Roots per `nix path-info` call: keeps argv far below ARG_MAX (about 100 bytes per path). */
export const PATH_INFO_BATCH = 2000;

interface PathInfoJson {
  path: string;
  valid?: boolean;
  narHash?: string;
  narSize?: number;
  references?: string[];
  ca?: string;
}

export async function queryDrvClosure(
  drvPaths: readonly string[],
  options: NixToolOptions & { readonly batchSize?: number } = {},
): Promise<Map<string, StorePathInfo>> {
  const infos = new Map<string, StorePathInfo>();
  const batchSize = options.batchSize ?? PATH_INFO_BATCH;
  for (let i = 0; i < drvPaths.length; i += batchSize) {
    const batch = drvPaths.slice(i, i + batchSize).filter((p) => !infos.has(p));
    if (batch.length === 0) continue;
    const run = await runNix(['path-info', '--json', '--derivation', '--recursive', '--option', 'substituters', '', ...batch], options);
    if (run.code !== 0) {
      throw new FarmError('NOT_FOUND', `cannot read the closure of ${batch.length} derivation(s) from the local store:\n${nixErrorSummary(run.stderr)}`);
    }
    for (const j of JSON.parse(run.stdout.toString('utf8')) as PathInfoJson[]) {
      if (j.valid === false || j.narHash === undefined || j.narSize === undefined) {
        throw new FarmError('NOT_FOUND', `${j.path} is not valid in the local store`, { path: j.path });
      }
      infos.set(j.path, {
        path: j.path,
        narHash: Hash.parse(j.narHash),
        narSize: BigInt(j.narSize),
        references: j.references ?? [],
        ...(j.ca !== undefined ? { ca: j.ca } : {}),
      });
    }
  }
  return infos;
}
