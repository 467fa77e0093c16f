/**
 * The exact error texts Nix 2.8 puts into BuildResult.errorMsg / STDERR_ERROR and prints on the
 * client, reproduced so a farm server's failures look like Nix's own (ANSI escapes included;
 * the client strips them when stderr is not a terminal). Shapes are pinned by the transcripts
 * and client-runs/*.out vectors.
 */
import { sortedBytewise } from '../store-path/index.js';

export const ANSI_RED_BOLD = '\x1b[31;1m';
export const ANSI_MAGENTA = '\x1b[35;1m';
export const ANSI_BOLD = '\x1b[1m';
export const ANSI_NORMAL = '\x1b[0m';

/** Nix's `yellowtxt`/hintfmt argument highlighting. */
export function highlight(s: string): string {
  return `${ANSI_MAGENTA}${s}${ANSI_NORMAL}`;
}

/** "error: <message>" as Nix renders an Error into a string (serve BuildPaths, wrong platform). */
export function formatNixError(message: string): string {
  return `${ANSI_RED_BOLD}error:${ANSI_NORMAL} ${message}`;
}

export interface WrongPlatformDetails {
  readonly requiredSystem: string;
  readonly requiredFeatures: Iterable<string>;
  readonly drvPath: string;
  readonly hostSystem: string;
  readonly hostFeatures: Iterable<string>;
}

/** BuildResult MiscFailure text for a derivation this machine cannot build (feature sets sorted). */
export function formatWrongPlatformError(d: WrongPlatformDetails): string {
  const req = sortedBytewise(new Set(d.requiredFeatures)).join(', ');
  const have = sortedBytewise(new Set(d.hostFeatures)).join(', ');
  return formatNixError(
    `a '${highlight(d.requiredSystem)}' with features {${highlight(req)}} is required to build '${highlight(d.drvPath)}', ` +
      `but I am a '${highlight(d.hostSystem)}' with features {${highlight(have)}}`,
  );
}

/** "builder for '<drv>' failed with exit code N" (no prefix). */
export function formatBuilderFailedMessage(drvPath: string, exitCode: number): string {
  return `builder for '${highlight(drvPath)}' failed with exit code ${exitCode}`;
}

/** The log-tail suffix Nix appends when it has log lines (worker protocol messages). */
export function formatLogTail(drvPath: string, lines: readonly string[]): string {
  if (lines.length === 0) return '';
  return `;\nlast ${lines.length} log lines:\n${lines.map((l) => `> ${l}\n`).join('')}For full logs, run '${ANSI_BOLD}nix log ${drvPath}${ANSI_NORMAL}'.`;
}

/** BuildResult.errorMsg for PermanentFailure (a builder that exited non-zero). */
export function formatBuilderFailure(drvPath: string, exitCode: number, logTail: readonly string[] = []): string {
  return `${ANSI_NORMAL}${formatBuilderFailedMessage(drvPath, exitCode)}${formatLogTail(drvPath, logTail)}`;
}

/** What the build hook reports when the remote build fails (spec §6.5 step 4). */
export function formatRemoteBuildFailure(drvPath: string, storeUri: string, errorMsg: string): string {
  return `build of '${drvPath}' on '${storeUri}' failed: ${errorMsg}`;
}

const ANSI_PATTERN = /\x1b\[[0-9;]*[A-Za-z]/g;

export function stripAnsi(s: string): string {
  return s.replace(ANSI_PATTERN, '');
}

/** How a Nix client prints an error on a non-terminal: "error: " and continuation lines indented. */
export function formatClientErrorLines(message: string): string {
  return `error: ${stripAnsi(message).split('\n').join('\n       ')}`;
}

/** What `nix-store --serve` prints (then exits) for an invalid path argument. */
export function formatInvalidPathError(path: string): string {
  return `path '${highlight(path)}' is not valid`;
}

/** The daemon's STDERR_ERROR text for a path outside the store. */
export function formatNotInStoreError(path: string): string {
  return `path '${highlight(path)}' is not in the Nix store`;
}
