/** The builder's request and result: one derivation, everything it needs already local. */
import type { Clock } from '@farm/common';
import type { BasicDerivation, Hash } from '@farm/nix';
import type { Emulator } from '../emulation.js';

export interface BuildRequest {
  readonly drvPath: string;
  readonly drv: BasicDerivation;
  /** Host dir holding this agent's store by base name: `<storeRoot>/<hash>-<name>`. */
  readonly storeRoot: string;
  /** Full store paths the build may see; every one must exist under storeRoot. */
  readonly inputClosure: readonly string[];
  /** Extra host paths bound read-only: `PATH`, `TARGET=SOURCE`, optional with a trailing `?`. */
  readonly sandboxPaths: readonly string[];
  /** NIX_BUILD_CORES. */
  readonly cores: number;
  readonly timeoutMs?: number | undefined;
  readonly maxSilentMs?: number | undefined;
  readonly maxLogBytes?: number | undefined;
  /** Scratch space; the build's sandbox dirs are created (and always removed) inside it. */
  readonly workDir: string;
  /** Lines kept for `logTail` (Nix's log-lines); default 25. */
  readonly logTailLines?: number | undefined;
  /** Where fixed-output derivations' `impureEnvVars` come from; default: the agent's process.env. */
  readonly impureEnv?: Readonly<Record<string, string | undefined>> | undefined;
  /** The bwrap executable; default: found on PATH. */
  readonly bwrapPath?: string | undefined;
  /** Set when the derivation's system is emulated on this host: how its builder runs (emulation.ts). */
  readonly emulator?: Emulator | undefined;
}

export interface BuildHooks {
  /** Builder stdout+stderr, in order, as it arrives. */
  readonly onLog: (chunk: Uint8Array) => void;
  /** Aborting kills the build (cancel, or self-fencing when a lease cannot be renewed). */
  readonly signal?: AbortSignal | undefined;
  readonly clock?: Clock | undefined;
}

export type BuildStatus =
  | 'built'
  /** The builder exited non-zero. */
  | 'failed'
  | 'timed-out'
  | 'silent-too-long'
  /** More than maxLogBytes of log output (Nix's LogLimitExceeded). */
  | 'log-limit-exceeded'
  /** A fixed-output derivation produced content with another hash. */
  | 'hash-mismatch'
  | 'cancelled'
  | 'output-missing'
  /** bwrap could not create the sandbox: the builder never ran. */
  | 'sandbox-error';

/**
 * What a scheduler does with a status: 'build' failures are the derivation's own and are not
 * retried; 'infrastructure' ones may succeed on another attempt or agent.
 */
export type FailureClass = 'none' | 'build' | 'infrastructure' | 'cancelled';

export function failureClassOf(status: BuildStatus): FailureClass {
  switch (status) {
    case 'built':
      return 'none';
    case 'cancelled':
      return 'cancelled';
    case 'sandbox-error':
      return 'infrastructure';
    case 'failed':
    case 'timed-out':
    case 'silent-too-long':
    case 'log-limit-exceeded':
    case 'hash-mismatch':
    case 'output-missing':
      return 'build';
  }
}

export interface BuiltOutput {
  readonly name: string;
  /** Full store path (`/nix/store/…`). */
  readonly path: string;
  readonly narHash: Hash;
  readonly narSize: number;
  /** Full store paths, sorted; includes the output itself when it refers to itself. */
  readonly references: readonly string[];
}

export interface BuildResult {
  readonly status: BuildStatus;
  readonly failureClass: FailureClass;
  /** The builder's exit code, when it exited. */
  readonly exitCode?: number;
  /** Empty when built; otherwise Nix-shaped, e.g. "builder for '<drv>' failed with exit code 3". */
  readonly message: string;
  readonly logTail: readonly string[];
  /** Every output when built, none otherwise. */
  readonly outputs: readonly BuiltOutput[];
  readonly startTime: number;
  readonly stopTime: number;
}
