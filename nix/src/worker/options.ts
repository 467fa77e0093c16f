/**
 * SetOptions (op 19, spec §7.5): twelve u64 settings, then (≥1.12) a map of setting overrides.
 * The overrides keep wire order (Nix writes them sorted by name).
 */
import { type WireReader, type WireWriter, protocolMinor } from '../wire/index.js';

export interface WorkerOptions {
  readonly keepFailed: boolean;
  readonly keepGoing: boolean;
  readonly tryFallback: boolean;
  readonly verbosity: number;
  readonly maxBuildJobs: number;
  readonly maxSilentTime: number;
  /** Obsolete; Nix always sends 1. */
  readonly useBuildHook: boolean;
  /** Nix sends 0 (lvlError) when verbose build output is wanted, else 7 (lvlVomit). */
  readonly verboseBuild: number;
  /** Obsolete, 0. */
  readonly logType: number;
  /** Obsolete, 0. */
  readonly printBuildTrace: number;
  readonly buildCores: number;
  readonly useSubstitutes: boolean;
  readonly overrides: ReadonlyArray<readonly [string, string]>;
}

export function writeWorkerOptions(w: WireWriter, o: WorkerOptions, version: number): void {
  w.bool(o.keepFailed).bool(o.keepGoing).bool(o.tryFallback).u64(o.verbosity).u64(o.maxBuildJobs).u64(o.maxSilentTime);
  w.bool(o.useBuildHook).u64(o.verboseBuild).u64(o.logType).u64(o.printBuildTrace).u64(o.buildCores).bool(o.useSubstitutes);
  if (protocolMinor(version) >= 12) {
    w.map(
      o.overrides,
      (x, k) => x.string(k),
      (x, v) => x.string(v),
    );
  }
}

export async function readWorkerOptions(r: WireReader, version: number): Promise<WorkerOptions> {
  const keepFailed = await r.readBool('keepFailed');
  const keepGoing = await r.readBool('keepGoing');
  const tryFallback = await r.readBool('tryFallback');
  const verbosity = await r.readInt('verbosity');
  const maxBuildJobs = await r.readInt('maxBuildJobs');
  const maxSilentTime = await r.readNumber('maxSilentTime');
  const useBuildHook = await r.readBool('useBuildHook');
  const verboseBuild = await r.readInt('verboseBuild');
  const logType = await r.readInt('logType');
  const printBuildTrace = await r.readInt('printBuildTrace');
  const buildCores = await r.readInt('buildCores');
  const useSubstitutes = await r.readBool('useSubstitutes');
  const overrides = protocolMinor(version) >= 12 ? await r.readStringPairs('overrides') : [];
  return {
    keepFailed,
    keepGoing,
    tryFallback,
    verbosity,
    maxBuildJobs,
    maxSilentTime,
    useBuildHook,
    verboseBuild,
    logType,
    printBuildTrace,
    buildCores,
    useSubstitutes,
    overrides,
  };
}
